// Read-your-writes across instances: a write is acknowledged to its client only once every other
// instance has applied its invalidation (dropped its L1 copies and stored answers), so a read sent to
// any instance after the write's answer sees the write. Each receiver acknowledges on a second topic;
// the writer waits for as many acknowledgements as the invalidation channel has other subscribers, at
// most ACK_WAIT_MS (an instance that is gone or stuck is bounded by the L1 TTL cap instead). The bound is
// generous: an ack takes a millisecond or two, but on a loaded machine a busy receiver can take hundreds,
// and a write answered before then lets that instance serve the old value to a read sent after it.
import { randomUUID } from 'node:crypto';
import type { EventBus } from '../realtime/event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { countSubscribers } from '../redis/slots.ts';

export const INVALIDATION_ACK_TOPIC = 'cache-invalidate-ack';
const ACK_WAIT_MS = 2_000;

interface Waiting {
  remaining: number;
  done(): void;
}

export class InvalidationAcks {
  private readonly waiting = new Map<string, Waiting>();
  /** The last count that could be read: used when a count fails, rather than waiting for nobody. */
  private lastOthers = 0;

  constructor(
    private readonly deps: {
      bus: EventBus;
      redis: RedisCircuit | undefined;
      /** The Redis channel invalidations go out on (the bus names channels <prefix>:<topic>). */
      channel: string;
    },
  ) {}

  /** Subscribes to acknowledgements; resolves with the unsubscribe function. */
  listen(): Promise<() => void> {
    return this.deps.bus.subscribe(INVALIDATION_ACK_TOPIC, (payload) => {
      const waiting = this.waiting.get((payload as { id: string }).id);
      if (waiting && --waiting.remaining <= 0) waiting.done();
    });
  }

  /** Tells the writer that this instance has applied its invalidation. */
  acknowledge(id: string): void {
    this.deps.bus.publish(INVALIDATION_ACK_TOPIC, { id }).catch(() => undefined);
  }

  /**
   * Publishes through `publish` with an acknowledgement id and waits for the other instances; publishes
   * without one when there is nobody else (or no Redis or relay to count them with). Returns how many
   * other instances it waited for.
   */
  async publishAndWait(publish: (ackId: string | undefined) => Promise<void>): Promise<number> {
    const others = await this.otherInstances();
    if (others <= 0) {
      await publish(undefined);
      return 0;
    }
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const acknowledged = new Promise<void>((resolve) => {
      this.waiting.set(id, { remaining: others, done: resolve });
      timer = setTimeout(resolve, ACK_WAIT_MS);
    });
    try {
      await publish(id);
      await acknowledged;
      return others;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }

  private async otherInstances(): Promise<number> {
    const redis = this.deps.redis;
    if (!redis) return this.deps.bus.otherProcesses?.() ?? 0; // workers sharing the primary's relay
    if (redis.state === 'open') return 0;
    try {
      this.lastOthers = (await redis.run((r) => countSubscribers(r, this.deps.channel))) - 1;
    } catch {
      // A node slow or away (a cluster asks every node): the instances are still there, and a write that
      // waited for none would answer before they dropped their copies.
    }
    return this.lastOthers;
  }
}
