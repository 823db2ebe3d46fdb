// Sharded pub/sub (SSUBSCRIBE / SPUBLISH) on a Redis Cluster, behind the PubSubEngine interface that
// graphql-redis-subscriptions offers for plain pub/sub (it has no sharded mode). Plain PUBLISH on a
// cluster is copied to every node; a sharded message goes only to the shard that owns the channel's
// slot, and ioredis keeps one subscriber connection per shard, re-subscribing after a failover
// (docs/ARCHITECTURE.md "Redis topologies").
import { PubSubEngine } from 'graphql-subscriptions';
import type { Cluster } from '../redis/connection.ts';

interface Listener {
  channel: string;
  onMessage: (payload: unknown) => void;
}

export class ShardedPubSub extends PubSubEngine {
  private readonly listeners = new Map<number, Listener>();
  /** Per channel: its listeners' ids, and the SSUBSCRIBE that the first of them started. */
  private readonly channels = new Map<string, { ids: Set<number>; subscribed: Promise<unknown> }>();
  private nextId = 0;

  constructor(
    private readonly subscriber: Cluster,
    private readonly send: (channel: string, payload: unknown) => Promise<void>,
    private readonly decode: (text: string) => unknown,
    /** True for a message that is the bus's own probe (channel-probes.ts), not for the listeners. */
    isProbe: (channel: string, text: string) => boolean,
  ) {
    super();
    subscriber.on('smessage', (channel: string, message: string) => {
      const entry = this.channels.get(channel);
      if (!entry || isProbe(channel, message)) return;
      const payload = this.decode(message);
      for (const id of entry.ids) this.listeners.get(id)?.onMessage(payload);
    });
  }

  /** The channels listened to now. */
  channelNames(): IterableIterator<string> {
    return this.channels.keys();
  }

  publish(channel: string, payload: unknown): Promise<void> {
    return this.send(channel, payload);
  }

  async subscribe(channel: string, onMessage: (payload: unknown) => void, _options?: object): Promise<number> {
    const id = ++this.nextId;
    this.listeners.set(id, { channel, onMessage });
    let entry = this.channels.get(channel);
    if (!entry) {
      entry = { ids: new Set(), subscribed: this.subscriber.ssubscribe(channel) };
      this.channels.set(channel, entry);
    }
    entry.ids.add(id);
    try {
      await entry.subscribed;
    } catch (error) {
      this.unsubscribe(id);
      throw error;
    }
    return id;
  }

  unsubscribe(id: number): void {
    const listener = this.listeners.get(id);
    if (!listener) return;
    this.listeners.delete(id);
    const entry = this.channels.get(listener.channel);
    if (!entry) return;
    entry.ids.delete(id);
    if (entry.ids.size > 0) return;
    this.channels.delete(listener.channel);
    // While Redis is away the reply is an error nobody needs: the channel is forgotten either way.
    this.subscriber.sunsubscribe(listener.channel).catch(() => undefined);
  }
}
