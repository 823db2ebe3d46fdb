// The pub/sub bus: GraphQL subscriptions and cache invalidations between gateway instances.
// With REDIS_URL: Redis pub/sub (graphql-redis-subscriptions), so a change on any instance reaches the
// subscribers and the L1 caches of every instance; on a Redis Cluster, sharded pub/sub
// (sharded-pubsub.ts). Without: an in-process bus (single instance), or, in a worker of several on one
// machine (WORKERS), that bus relayed to the other workers by the primary process over node:cluster's
// IPC channel (src/server/cluster.ts).
import { PubSub, type PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { decode, encode } from '../cache/codec.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { waitUntilReady, type Redis } from '../redis/connection.ts';
import { isCluster } from '../redis/slots.ts';
import { type ChannelProbeOptions, ChannelProbes } from './channel-probes.ts';
import { repairShardChannels, watchShardSubscriptions } from './shard-subscriptions.ts';
import { ShardedPubSub } from './sharded-pubsub.ts';

/** How often a cluster bus compares its channels with what its shard connections acknowledged. */
const SHARD_CHECK_INTERVAL_MS = 1_000;
/** How often the bus probes its channels end to end (channel-probes.ts), and how many per round. */
const PROBE_INTERVAL_MS = 1_000;
const PROBES_PER_ROUND = 100;

export interface EventBus {
  publish(topic: string, payload: unknown): Promise<void>;
  /** Calls `onMessage` for every payload on the topic until the returned function is called. */
  subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => void>;
  /** For subscription resolvers: an async iterator over one or more topics. */
  iterate<T>(topics: string | string[]): AsyncIterableIterator<T>;
  close(): Promise<void>;
  /** How many other processes hear this bus, where the bus itself knows (the relay between workers). */
  otherProcesses?(): number;
  /** Calls `listener` when subscriptions found lost were made again (messages meanwhile were missed). */
  onResubscribed?(listener: (channels: string[]) => void): void;
}

class InProcessBus implements EventBus {
  private readonly pubsub = new PubSub<Record<string, unknown>>();

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.pubsub.publish(topic, payload);
  }

  async subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => void> {
    const id = await this.pubsub.subscribe(topic, onMessage);
    return () => this.pubsub.unsubscribe(id);
  }

  iterate<T>(topics: string | string[]): AsyncIterableIterator<T> {
    return this.pubsub.asyncIterableIterator<T>(topics) as AsyncIterableIterator<T>;
  }

  async close(): Promise<void> {}
}

class RedisBus implements EventBus {
  private readonly pubsub: PubSubEngine;
  private readonly resubscribedListeners = new Set<(channels: string[]) => void>();
  private readonly stopShardCheck: (() => void) | undefined;
  private readonly probes: ChannelProbes;

  constructor(
    private readonly circuit: RedisCircuit,
    private readonly subscriber: Redis,
    private readonly channelPrefix: string,
  ) {
    // Payloads use the cache codec so Decimals and Dates survive the trip between instances. publish()
    // encodes them itself and sends through the circuit, so the engine only ever decodes.
    const deserializer = (text: unknown): unknown => decode(String(text));
    const resubscribed = (channels: string[]): void => {
      for (const listener of this.resubscribedListeners) listener(channels);
    };
    const probed = { intervalMs: PROBE_INTERVAL_MS, perRound: PROBES_PER_ROUND, send: this.sendText };
    if (isCluster(subscriber)) {
      // Each channel is probed: a shard's subscription can end for one slot while the others go on.
      const sharded = new ShardedPubSub(
        subscriber,
        (channel, payload) => this.send(channel, payload),
        deserializer,
        (channel, text) => this.probes.heard(channel, text),
      );
      this.pubsub = sharded;
      this.stopShardCheck = watchShardSubscriptions(
        subscriber,
        () => sharded.channelNames(),
        resubscribed,
        SHARD_CHECK_INTERVAL_MS,
      );
      this.probes = new ChannelProbes({
        ...probed,
        channels: () => sharded.channelNames(),
        onLost: (channels) => {
          repairShardChannels(subscriber, channels);
          resubscribed(channels);
        },
      });
    } else {
      this.pubsub = new RedisPubSub({
        publisher: circuit.redis,
        subscriber: quietUnsubscribes(subscriber),
        deserializer,
      });
      this.probes = probeConnection(subscriber, this.channel('bus-probe'), probed);
    }
  }

  private readonly sendText = async (channel: string, text: string): Promise<void> => {
    await this.circuit.run((redis) =>
      isCluster(redis) ? redis.spublish(channel, text) : redis.publish(channel, text),
    );
  };

  onResubscribed(listener: (channels: string[]) => void): void {
    this.resubscribedListeners.add(listener);
  }

  /** Through the circuit breaker, like every request-path Redis call: fails at once while Redis is away. */
  async publish(topic: string, payload: unknown): Promise<void> {
    await this.send(this.channel(topic), payload);
  }

  private send(channel: string, payload: unknown): Promise<void> {
    return this.sendText(channel, encode(payload));
  }

  /** Waits for the subscriber connection first: a gateway may start, or a listener be added, while Redis is down. */
  async subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => void> {
    await waitUntilReady(this.subscriber, Number.POSITIVE_INFINITY);
    const id = await this.pubsub.subscribe(this.channel(topic), onMessage, {});
    return () => this.pubsub.unsubscribe(id);
  }

  iterate<T>(topics: string | string[]): AsyncIterableIterator<T> {
    const channels = (Array.isArray(topics) ? topics : [topics]).map((t) => this.channel(t));
    return this.pubsub.asyncIterableIterator(channels) as AsyncIterableIterator<T>;
  }

  /** RedisPubSub.close() would quit both connections; they belong to the composition root, which closes them. */
  async close(): Promise<void> {
    this.stopShardCheck?.();
    this.probes.stop();
  }

  /** Channels share the cache prefix so two deployments on one Redis never hear each other. */
  private channel(topic: string): string {
    return `${this.channelPrefix}:${topic}`;
  }
}

/**
 * One redis-server: one connection carries every channel, so a channel of its own stands for all of them.
 * A connection found deaf is made again: ioredis subscribes everything again, and the app drops its copies
 * once it is ready.
 */
function probeConnection(
  subscriber: Redis,
  probeChannel: string,
  options: Pick<ChannelProbeOptions, 'intervalMs' | 'perRound' | 'send'>,
): ChannelProbes {
  // Once subscribed, ioredis subscribes it again after every reconnect.
  let subscribed = false;
  const listen = (): Promise<void> =>
    waitUntilReady(subscriber, Number.POSITIVE_INFINITY)
      .then(() => subscriber.subscribe(probeChannel))
      .then(() => void (subscribed = true))
      .catch(() => undefined);
  const probes = new ChannelProbes({
    ...options,
    channels: () => [probeChannel],
    onLost: () => (subscribed ? subscriber.disconnect(true) : void listen()),
  });
  subscriber.on('message', (channel: string, text: string) => {
    if (channel === probeChannel) probes.heard(channel, text);
  });
  void listen();
  return probes;
}

/**
 * RedisPubSub fires UNSUBSCRIBE without waiting for or handling the reply. While Redis is down that
 * reply is a rejection nobody catches, which would take the process down (in a graceful shutdown, say).
 * Nothing is lost by ignoring it: if ioredis re-subscribes the channel on reconnect, RedisPubSub drops
 * its messages, since nobody listens to that channel any more.
 */
function quietUnsubscribes(subscriber: Redis): Redis {
  return new Proxy(subscriber, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== 'unsubscribe' && name !== 'punsubscribe')
        return typeof value === 'function' ? value.bind(target) : value;
      return (...channels: string[]) =>
        (value as (...c: string[]) => Promise<unknown>).apply(target, channels).catch(() => undefined);
    },
  });
}

/** What a worker sends the primary, and the primary forwards to every other worker. */
export interface RelayedMessage {
  channel: typeof RELAY_CHANNEL;
  topic: string;
  /** The cache codec's text: Decimals and Dates survive the trip, as through Redis. */
  payload: string;
}

export const RELAY_CHANNEL = 'cachegate:bus';
/** The primary tells every worker how many workers serve, whenever that changes. */
export const PEERS_CHANNEL = 'cachegate:peers';

export function isRelayedMessage(message: unknown): message is RelayedMessage {
  return (message as RelayedMessage | null)?.channel === RELAY_CHANNEL;
}

/** An IPC endpoint: a cluster worker's `process`. */
export interface RelayPort {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/** This worker's subscribers hear a publish at once; the other workers through the primary's relay. */
class RelayedBus implements EventBus {
  private readonly local = new InProcessBus();
  private workers = 1;
  private readonly receive = (message: unknown): void => {
    if (isRelayedMessage(message)) void this.local.publish(message.topic, decode(message.payload));
    const peers = message as { channel?: string; workers?: number } | null;
    if (peers?.channel === PEERS_CHANNEL && typeof peers.workers === 'number') this.workers = peers.workers;
  };

  constructor(private readonly port: RelayPort) {
    port.on('message', this.receive);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.local.publish(topic, payload);
    // A primary that is gone takes the worker down with it (cluster.ts): nothing to deliver to meanwhile.
    if (!this.port.connected) return;
    const message: RelayedMessage = { channel: RELAY_CHANNEL, topic, payload: encode(payload) };
    this.port.send?.(message, () => undefined);
  }

  subscribe(topic: string, onMessage: (payload: unknown) => void): Promise<() => void> {
    return this.local.subscribe(topic, onMessage);
  }

  iterate<T>(topics: string | string[]): AsyncIterableIterator<T> {
    return this.local.iterate<T>(topics);
  }

  async close(): Promise<void> {
    this.port.off('message', this.receive);
  }

  /** The other workers serving: a write waits for their acknowledgements (src/cache/invalidation-acks.ts). */
  otherProcesses(): number {
    return this.port.connected ? this.workers - 1 : 0;
  }
}

export function createRelayedBus(port: RelayPort): EventBus {
  return new RelayedBus(port);
}

export function createInProcessBus(): EventBus {
  return new InProcessBus();
}

export function createRedisBus(circuit: RedisCircuit, subscriber: Redis, channelPrefix: string): EventBus {
  return new RedisBus(circuit, subscriber, channelPrefix);
}
