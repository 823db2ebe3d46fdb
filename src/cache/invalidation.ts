// Invalidation: how a write reaches every cache layer on every instance.
//
// Decisions:
// - A write deletes its keys from this L1 and Redis, then tells the other instances (through the bus)
//   to drop their L1 copies. Deletes that cannot reach Redis wait in the replay queue until the circuit
//   closes.
// - Entity keys are deleted with a numbered mark, so a fill that read PostgreSQL before the write cannot
//   put the old value back into Redis afterwards (invalidation-sequence.ts). A second delete follows
//   after a short delay, as a backstop.
// - A write's invalidation is acknowledged by the other instances before the write answers its client
//   (invalidation-acks.ts): a read anywhere after the answer sees the write.
// - Caches built on the entities (the response cache) listen to every invalidation, local or remote,
//   and drop what was built from the keys and tags it names.
// - Lists and counts are filed under tags whose generation is part of their keys (tag-generations.ts):
//   a write purges a tag by bumping its generation, in O(1), whatever the number of entries.
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { unlinkAll, unlinkMatching } from '../redis/slots.ts';
import { InvalidationAcks } from './invalidation-acks.ts';
import { invalidateMarked, type InvalidationSequence } from './invalidation-sequence.ts';
import type { InvalidationStamps } from './invalidation-stamps.ts';
import type { L1Cache } from './l1-cache.ts';
import { ReplayQueue } from './replay-queue.ts';
import type { TagGenerations } from './tag-generations.ts';

export const INVALIDATION_TOPIC = 'cache-invalidate';
export const SECOND_DELETE_DELAY_MS = 750;
const REPLAY_CHUNK = 500;

interface InvalidationMessage {
  origin: string;
  keys: string[];
  /** Receivers acknowledge under this id once applied (invalidation-acks.ts). */
  ackId?: string;
  /** The invalidation's number (invalidation-sequence.ts). */
  seq?: number;
  /** New tag generations: receivers switch to them (tag-generations.ts). */
  tags?: Record<string, number>;
  prefixes?: string[];
}

/** What an invalidation dropped; `remote`: announced by another instance over the bus. */
export interface Invalidated {
  keys: readonly string[];
  tags: readonly string[];
  remote: boolean;
}

export type InvalidationListener = (invalidated: Invalidated) => Promise<void> | void;

export interface InvalidationDeps {
  instanceId: string;
  l1: L1Cache;
  redis: RedisCircuit | undefined;
  bus: EventBus;
  prefix: string;
  stamps: InvalidationStamps;
  sequence: InvalidationSequence;
  tags: TagGenerations;
  logger: Logger;
}

export class Invalidation {
  private readonly queue = new ReplayQueue();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<InvalidationListener>();
  private readonly acks: InvalidationAcks;
  private unsubscribe: (() => void) | undefined;
  private unlistenAcks: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly deps: InvalidationDeps) {
    const { bus, redis, prefix } = deps;
    this.acks = new InvalidationAcks({ bus, redis, channel: `${prefix}:${INVALIDATION_TOPIC}` });
    deps.redis?.on('recovered', () => void this.replay());
    deps.redis?.on('failover', () => void this.forgetLostDeletes());
  }

  /** Listens for other instances' invalidations. Resolves once subscribed (see EntityCache.start). */
  start(): Promise<void> {
    const { bus, l1, stamps, sequence, tags, instanceId } = this.deps;
    const subscribed = bus.subscribe(INVALIDATION_TOPIC, (payload) => {
      const message = payload as InvalidationMessage;
      if (message.origin === instanceId) return;
      // Also stamp them, so a fill here that read PostgreSQL before the other instance's write cannot
      // put the old value back into our L1 once this message has passed.
      for (const key of message.keys) l1.delete(key);
      stamps.stamp(message.keys);
      if (message.seq !== undefined) sequence.note(message.seq);
      if (message.tags) tags.observe(message.tags);
      if (message.prefixes?.length) l1.deleteByPrefix(message.prefixes);
      void this.notify({ keys: message.keys, tags: Object.keys(message.tags ?? {}), remote: true });
      if (message.ackId) this.acks.acknowledge(message.ackId); // this L1 was purged synchronously above
    });
    this.acks.listen().then(
      (unlisten) => (this.stopped ? unlisten() : (this.unlistenAcks = unlisten)),
      () => undefined,
    );
    return subscribed.then(
      (unsubscribe) => {
        if (this.stopped) unsubscribe();
        else this.unsubscribe = unsubscribe;
      },
      (error: unknown) => this.deps.logger.error({ err: error }, 'could not subscribe to cache invalidations'),
    );
  }

  /** Registers a listener called after every invalidation, local or remote; returns its removal. */
  onInvalidate(listener: InvalidationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unlistenAcks?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Drops keys everywhere; `broadcast: false` for keys that are never in any L1 (sessions). */
  async invalidate(keys: readonly string[], broadcast: boolean): Promise<void> {
    if (keys.length === 0) return;
    for (const key of keys) this.deps.l1.delete(key);
    this.deps.stamps.stamp(keys);
    const seq = await this.deleteFromRedis(keys, broadcast);
    // Until Redis had deleted them, a read here could still find the old values there and copy them into
    // L1 (its lookup came after the stamp above). Again now: what L1 holds from then goes, and no Redis
    // read that began before the delete is copied into L1 (on a cluster the delete is two round trips).
    for (const key of keys) this.deps.l1.delete(key);
    this.deps.stamps.stamp(keys);
    if (broadcast) {
      // Keys never in an L1 (sessions) are never served by a loader either: no answer is built from them.
      await this.notify({ keys, tags: [], remote: false });
      const others = await this.broadcast({ keys: [...keys], ...(seq !== undefined && { seq }) }, true);
      if (others > 0) await this.notify({ keys, tags: [], remote: false }); // again: see invalidateTags
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const key of keys) this.deps.l1.delete(key);
      void this.deleteFromRedis(keys, broadcast);
      if (!broadcast) return;
      void this.notify({ keys, tags: [], remote: false });
      void this.broadcast({ keys: [...keys] });
    }, SECOND_DELETE_DELAY_MS);
    timer.unref();
    this.timers.add(timer);
  }

  /** Moves the tags to new generations here and in Redis, and tells every other instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const generations = await this.deps.tags.bump(tags);
    await this.notify({ keys: [], tags, remote: false });
    const others = await this.broadcast({ keys: [], tags: generations }, true);
    // The listeners once more, once the other instances have acknowledged. Until its message reached them,
    // another instance could still build an answer from its in-memory copy of what this write changed and
    // store it in Redis after the first purge (its lookup then saw that purge's number, so the store script
    // cannot tell). Such answers are filed under what they were built from, so this purge finds them; and
    // from the acknowledgement on, no instance builds one any more. Alone, there is no such copy.
    if (others > 0) await this.notify({ keys: [], tags, remote: false });
  }

  private async notify(invalidated: Invalidated): Promise<void> {
    if (this.listeners.size === 0) return;
    const calls = [...this.listeners].map((listener) => Promise.resolve(listener(invalidated)).catch(() => undefined));
    await Promise.all(calls);
  }

  /** Deletes the keys from Redis; `mark`: with a numbered mark (entity keys). Returns the number. */
  private async deleteFromRedis(keys: readonly string[], mark: boolean): Promise<number | undefined> {
    const { redis, prefix, sequence } = this.deps;
    const queued = (): undefined => void this.queue.add(keys);
    if (!mark) return redis?.attempt((r) => unlinkAll(r, keys).then(() => undefined), 'unlink', queued);
    const counter = `${prefix}:inv@seq`;
    const seq = await redis?.attempt((r) => invalidateMarked(r, counter, keys), 'unlink', queued);
    if (seq !== undefined) sequence.note(seq);
    return seq;
  }

  /** `wait`: until the other instances have applied it (a write's own invalidation, not the backstop). */
  private async broadcast(message: Omit<InvalidationMessage, 'origin'>, wait = false): Promise<number> {
    const publish = (ackId?: string): Promise<void> =>
      this.deps.bus.publish(INVALIDATION_TOPIC, { origin: this.deps.instanceId, ...message, ...(ackId && { ackId }) });
    try {
      if (wait) return await this.acks.publishAndWait(publish);
      await publish();
      return 0;
    } catch {
      // The other instances cannot hear us now; their L1 TTL cap bounds how long they may serve the old
      // value, and the replay on recovery tells them again.
      this.deps.redis?.reportFailure('publish');
      this.queue.add(message.keys);
      if (message.prefixes?.length) this.queue.giveUp();
      return 0;
    }
  }

  /**
   * After a cluster failover the promoted replica may hold values whose deletes the old master took but
   * never passed on. Cached values go, in Redis and then here (not before: a read between the two would
   * copy them back); the marks, counters and stored answers' keys (the response store's own) stay.
   */
  private async forgetLostDeletes(): Promise<void> {
    const { redis, prefix, l1, logger } = this.deps;
    if (!redis) return;
    const isCachedValue = (key: string): boolean => !key.includes(':rc@') && !key.endsWith('@seq');
    try {
      await redis.run((r) => unlinkMatching(r, `${prefix}:*@*`, isCachedValue));
    } catch {
      this.queue.giveUp(); // the next recovery flushes everything instead
    }
    l1.clear();
    logger.info('dropped cached values after a redis cluster failover');
  }

  /** Runs when Redis is usable again (circuit closed, cluster node back): deletes what could not be deleted. */
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
        await redis.run((r) => unlinkAll(r, chunk));
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
