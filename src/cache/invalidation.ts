// Invalidation: how a write reaches every cache layer on every instance.
//
// Decisions:
// - A write deletes its keys from this L1 and Redis, then tells the other instances (through the bus)
//   to drop their L1 copies. Deletes that cannot reach Redis wait in the replay queue until the circuit
//   closes.
// - A second delete follows each invalidation after a short delay: it removes a stale value that a
//   reader which fetched from PostgreSQL just before the write committed may have put back.
// - Lists and counts are filed under tags whose generation is part of their keys (tag-generations.ts):
//   a write purges a tag by bumping its generation, in O(1), whatever the number of entries.
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { Redis } from '../redis/connection.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import type { InvalidationStamps } from './invalidation-stamps.ts';
import type { L1Cache } from './l1-cache.ts';
import { ReplayQueue } from './replay-queue.ts';
import type { TagGenerations } from './tag-generations.ts';

export const INVALIDATION_TOPIC = 'cache-invalidate';
const SECOND_DELETE_DELAY_MS = 750;
const REPLAY_CHUNK = 500;

interface InvalidationMessage {
  origin: string;
  keys: string[];
  /** New tag generations: receivers switch to them (tag-generations.ts). */
  tags?: Record<string, number>;
  prefixes?: string[];
}

export interface InvalidationDeps {
  instanceId: string;
  l1: L1Cache;
  redis: RedisCircuit | undefined;
  bus: EventBus;
  prefix: string;
  stamps: InvalidationStamps;
  tags: TagGenerations;
  logger: Logger;
}

export class Invalidation {
  private readonly queue = new ReplayQueue();
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly deps: InvalidationDeps) {
    deps.redis?.on('state', (state) => {
      if (state === 'closed') void this.replay();
    });
  }

  /** Listens for other instances' invalidations. Resolves once subscribed (see EntityCache.start). */
  start(): Promise<void> {
    const { bus, l1, stamps, tags, instanceId } = this.deps;
    const subscribed = bus.subscribe(INVALIDATION_TOPIC, (payload) => {
      const message = payload as InvalidationMessage;
      if (message.origin === instanceId) return;
      // Also stamp them, so a fill here that read PostgreSQL before the other instance's write cannot
      // put the old value back into our L1 once this message has passed.
      for (const key of message.keys) l1.delete(key);
      stamps.stamp(message.keys);
      if (message.tags) tags.observe(message.tags);
      if (message.prefixes?.length) l1.deleteByPrefix(message.prefixes);
    });
    return subscribed.then(
      (unsubscribe) => {
        if (this.stopped) unsubscribe();
        else this.unsubscribe = unsubscribe;
      },
      (error: unknown) => this.deps.logger.error({ err: error }, 'could not subscribe to cache invalidations'),
    );
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Drops keys everywhere; `broadcast: false` for keys that are never in any L1 (sessions). */
  async invalidate(keys: readonly string[], broadcast: boolean): Promise<void> {
    if (keys.length === 0) return;
    for (const key of keys) this.deps.l1.delete(key);
    this.deps.stamps.stamp(keys);
    await this.deleteFromRedis(keys);
    if (broadcast) await this.broadcast({ keys: [...keys] });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const key of keys) this.deps.l1.delete(key);
      void this.deleteFromRedis(keys);
      if (broadcast) void this.broadcast({ keys: [...keys] });
    }, SECOND_DELETE_DELAY_MS);
    timer.unref();
    this.timers.add(timer);
  }

  /** Moves the tags to new generations here and in Redis, and tells every other instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    await this.broadcast({ keys: [], tags: await this.deps.tags.bump(tags) });
  }

  private async deleteFromRedis(keys: readonly string[]): Promise<void> {
    await this.deps.redis?.attempt(
      (r) => r.unlink(...keys),
      'unlink',
      () => void this.queue.add(keys),
    );
  }

  private async broadcast(message: Omit<InvalidationMessage, 'origin'>): Promise<void> {
    try {
      await this.deps.bus.publish(INVALIDATION_TOPIC, { origin: this.deps.instanceId, ...message });
    } catch {
      // The other instances cannot hear us now; their L1 TTL cap bounds how long they may serve the old
      // value, and the replay on recovery tells them again.
      this.deps.redis?.reportFailure('publish');
      this.queue.add(message.keys);
      if (message.prefixes?.length) this.queue.giveUp();
    }
  }

  /** Runs when the Redis circuit closes: deletes what could not be deleted while Redis was away. */
  private async replay(): Promise<void> {
    const { redis, bus, prefix, tags, instanceId, logger } = this.deps;
    if (!redis) return;
    const publish = (message: Omit<InvalidationMessage, 'origin'>): Promise<void> =>
      bus.publish(INVALIDATION_TOPIC, { origin: instanceId, ...message });
    try {
      // Tag bumps first: they are what makes lists fresh again, and there are few of them.
      const generations = await tags.replay();
      if (Object.keys(generations).length) await publish({ keys: [], tags: generations });
      const pending = this.queue.take();
      if (pending.flushAll) {
        // Cached entities only (their keys hold "@<version>"): sessions and rate-limit counters stay.
        await redis.run((r) => unlinkMatching(r, `${prefix}:*@*`));
        await publish({ keys: [], prefixes: [`${prefix}:`] });
        logger.warn('flushed every cache key under the prefix after an outage with too many writes to replay');
        return;
      }
      for (let i = 0; i < pending.keys.length; i += REPLAY_CHUNK) {
        const chunk = pending.keys.slice(i, i + REPLAY_CHUNK);
        await redis.run((r) => r.unlink(...chunk));
        await publish({ keys: chunk });
      }
      if (pending.keys.length || Object.keys(generations).length) {
        logger.info(
          { keys: pending.keys.length, tags: Object.keys(generations).length },
          'replayed invalidations queued during the redis outage',
        );
      }
    } catch {
      redis.reportFailure('replay');
      this.queue.giveUp(); // the next recovery flushes everything rather than guess
      logger.warn('replaying queued invalidations failed: the next recovery flushes the whole prefix');
    }
  }
}

async function unlinkMatching(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}
