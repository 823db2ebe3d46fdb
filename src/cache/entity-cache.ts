// The shared layers under the per-request DataLoaders: L1 (in-process LRU) then L2 (Redis), with
// invalidation that reaches every instance. The DataLoader batch function (loader-factory.ts) calls
// getMany once per batch, and setMany once for what it had to read from PostgreSQL.
//
// Decisions:
// - One MGET per batch for the L1 misses, one pipelined SET PX for the fills: a batch costs at most
//   two Redis round trips, whatever its size.
// - Redis failures never fail a read: the layer reports a miss and the loader goes to PostgreSQL.
//   The circuit breaker makes that instant while Redis is down (no waiting on a dead socket).
// - TTLs get up to 10% taken off at random, so keys written together do not expire together.
// - Invalidation deletes from L1 and Redis, then tells the other instances to drop their L1 copies.
//   Deletes that cannot reach Redis are queued and replayed when the circuit closes; if more pile up
//   than the queue holds, every key under the prefix is flushed instead (correct, just colder).
// - Lists and counts are filed under tags whose generation is part of their keys (tag-generations.ts):
//   a write purges a tag by bumping its generation, in O(1), whatever the number of entries.
// - A fill that read PostgreSQL before a write committed must not land in Redis after that write's
//   delete. Each invalidation takes a number from a Redis counter and marks its keys with it for a
//   minute; an instance knows the numbers of the invalidations it made or heard of, and a fill writes a
//   key only when its mark (if any) is one the instance knew before the fill started: that write
//   committed before the read. An unknown mark may be a write after the read, so the fill skips Redis.
// - A second delete follows each invalidation after a short delay, as a backstop.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../infra/logger.ts';
import type { Metrics } from '../infra/metrics.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { decode, encode } from './codec.ts';
import { InvalidationAcks } from './invalidation-acks.ts';
import type { L1Cache } from './l1-cache.ts';
import { TagGenerations } from './tag-generations.ts';

export const INVALIDATION_TOPIC = 'cache-invalidate';
const MAX_PENDING_INVALIDATIONS = 50_000;
const SECOND_DELETE_DELAY_MS = 750;
const TTL_JITTER = 0.1;
/** How long one instance may hold the right to fill a key from PostgreSQL. */
const FILL_LOCK_MS = 2_000;
/** How long another instance waits for that fill before reading PostgreSQL itself. */
const FILL_WAIT_MS = 250;
const FILL_POLL_MS = 15;
/** How long an invalidation mark lives: longer than any fill (a PostgreSQL read) can take. */
const INVALIDATION_MARK_MS = 60_000;

// KEYS[1]: the counter, then the keys. ARGV[1]: mark lifetime (ms). Returns the invalidation's number.
const INVALIDATE_LUA = `
local seq = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do
  redis.call('UNLINK', KEYS[i])
  redis.call('SET', KEYS[i] .. ':inv', seq, 'PX', ARGV[1])
end
return seq`;

// KEYS: the keys. ARGV[1]: the last invalidation number known at fill start, then (value, ttl) pairs.
const FILL_LUA = `
local known = tonumber(ARGV[1])
for i = 1, #KEYS do
  local mark = redis.call('GET', KEYS[i] .. ':inv')
  if not mark or tonumber(mark) <= known then
    redis.call('SET', KEYS[i], ARGV[2 * i], 'PX', ARGV[2 * i + 1])
  end
end
return 0`;

export interface CacheEntry {
  /** null: the entity is known not to exist (negative entry). */
  value: unknown;
}

export interface CacheWrite {
  key: string;
  value: unknown;
  ttlSeconds: number;
}

interface InvalidationMessage {
  origin: string;
  keys: string[];
  /** Receivers acknowledge under this id once applied (invalidation-acks.ts). */
  ackId?: string;
  /** The invalidation's number (see the decisions above). */
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

export interface EntityCacheDeps {
  l1: L1Cache;
  /** Absent in single-instance mode (no REDIS_URL). */
  redis: RedisCircuit | undefined;
  bus: EventBus;
  prefix: string;
  metrics: Metrics;
  logger: Logger;
}

export class EntityCache {
  readonly instanceId = randomUUID();
  private readonly pendingDeletes = new Set<string>();
  private flushPrefixOnRecovery = false;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** When each key was last invalidated: a fill that read PostgreSQL before then must not write back. */
  private readonly invalidatedAt = new Map<string, number>();
  private readonly tags: TagGenerations;
  private readonly log: Logger;
  /** Caches built on top of the entities (the response cache) drop what depends on an invalidated key or tag. */
  private readonly listeners = new Set<InvalidationListener>();
  /** Invalidation numbers this instance knew, from when: a fill knows which writes preceded it. */
  private readonly knownSeqs: { at: number; seq: number }[] = [];
  private readonly acks: InvalidationAcks;
  private unlistenAcks: (() => void) | undefined;

  constructor(private readonly deps: EntityCacheDeps) {
    this.log = deps.logger.child({ component: 'entity-cache' });
    this.tags = new TagGenerations(deps.redis, deps.prefix, deps.metrics);
    this.acks = new InvalidationAcks({
      bus: deps.bus,
      redis: deps.redis,
      channel: `${deps.prefix}:${INVALIDATION_TOPIC}`,
    });
    deps.redis?.on('state', (state) => {
      deps.metrics.redisCircuitOpen.set(state === 'open' ? 1 : 0);
      if (state === 'closed') void this.replayPendingDeletes();
    });
    deps.metrics.redisCircuitOpen.set(deps.redis?.state === 'open' ? 1 : 0);
  }

  /**
   * Listens for other instances' invalidations; called once at start-up. Resolves once subscribed; with
   * Redis down at start that is whenever it comes back, so callers cap the wait and serve meanwhile.
   */
  start(): Promise<void> {
    const subscribed = this.deps.bus.subscribe(INVALIDATION_TOPIC, (payload) => {
      const message = payload as InvalidationMessage;
      if (message.origin === this.instanceId) return;
      // Also stamp them, so a fill here that read PostgreSQL before the other instance's write cannot
      // put the old value back into our L1 once this message has passed.
      const now = performance.now();
      for (const key of message.keys) {
        this.deps.l1.delete(key);
        this.invalidatedAt.set(key, now);
      }
      if (message.seq !== undefined) this.noteSeq(message.seq);
      if (message.tags) this.tags.observe(message.tags);
      if (message.prefixes?.length) this.deps.l1.deleteByPrefix(message.prefixes);
      void this.notify({ keys: message.keys, tags: Object.keys(message.tags ?? {}), remote: true });
      if (message.ackId) this.acks.acknowledge(message.ackId); // L1s are purged synchronously above
    });
    void this.acks.listen().then(
      (unlisten) => (this.stopped ? unlisten() : (this.unlistenAcks = unlisten)),
      () => undefined,
    );
    return subscribed.then(
      (unsubscribe) => {
        if (this.stopped) unsubscribe();
        else this.unsubscribe = unsubscribe;
      },
      (error: unknown) => this.log.error({ err: error }, 'could not subscribe to cache invalidations'),
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

  /**
   * Cross-instance stampede protection: claims the right to fill each key from PostgreSQL with a short
   * Redis lock (SET NX PX). true: this instance fills it (also whenever Redis is absent or down).
   * false: another instance is filling it right now; wait for it with awaitFills.
   */
  async claimFills(keys: readonly string[]): Promise<boolean[]> {
    const redis = this.deps.redis;
    if (!redis || redis.state === 'open') return keys.map(() => true);
    try {
      const replies = await redis.pipeline((pipeline) => {
        for (const key of keys) pipeline.set(`${key}:fill`, this.instanceId, 'PX', FILL_LOCK_MS, 'NX');
      });
      return replies.map((reply) => reply === 'OK');
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'claim-fill' });
      return keys.map(() => true);
    }
  }

  /** Releases fill claims once the values are in Redis (or the read failed). */
  async releaseFills(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.deps.redis?.run((r) => r.unlink(...keys.map((k) => `${k}:fill`))).catch(() => undefined);
  }

  /**
   * Waits a moment for another instance's fill to land in Redis. Returns what arrived; the caller reads
   * PostgreSQL for the rest, so a crashed or slow filler costs one extra read, never a failure.
   */
  async awaitFills(type: string, keys: readonly string[], ttlSeconds: number): Promise<(CacheEntry | undefined)[]> {
    const results: (CacheEntry | undefined)[] = keys.map(() => undefined);
    const deadline = performance.now() + FILL_WAIT_MS;
    while (performance.now() < deadline && this.deps.redis?.state === 'closed') {
      await new Promise((resolve) => setTimeout(resolve, FILL_POLL_MS));
      const waiting = results.flatMap((entry, index) => (entry === undefined ? [index] : []));
      let raw: (string | null)[];
      try {
        raw = await this.deps.redis.run((r) => r.mget(waiting.map((i) => keys[i]!)));
      } catch {
        break;
      }
      raw.forEach((text, position) => {
        if (text === null) return;
        const index = waiting[position]!;
        const value = decode<unknown>(text);
        results[index] = { value };
        if (!this.invalidatedSince(keys[index]!, deadline - FILL_WAIT_MS))
          this.deps.l1.set(keys[index]!, value, ttlSeconds * 1000, text.length);
      });
      if (results.every((entry) => entry !== undefined)) break;
    }
    const arrived = results.filter((entry) => entry !== undefined).length;
    this.deps.metrics.cacheLookups.inc({ layer: 'redis', type, result: 'hit' }, arrived);
    return results;
  }

  /** This instance's cache state, for the admin view. */
  stats(): { l1Entries: number; l1Bytes: number; redisCircuit: 'closed' | 'open' | null } {
    return { l1Entries: this.deps.l1.size, l1Bytes: this.deps.l1.bytes, redisCircuit: this.deps.redis?.state ?? null };
  }

  /** Call before reading PostgreSQL for a fill; pass the result to setMany. */
  fillStarted(): number {
    return performance.now();
  }

  /** Whether the key was invalidated at or after `since` (a fillStarted time): its read is stale. */
  invalidatedSince(key: string, since: number): boolean {
    return (this.invalidatedAt.get(key) ?? -1) >= since;
  }

  /** The key part that files an entry under tags (their current generations): see tag-generations.ts. */
  tagKeyPart(tags: readonly string[]): Promise<string> {
    return this.tags.keyPart(tags);
  }

  /** One lookup per key, in order: undefined for a miss in both layers. */
  async getMany(type: string, keys: readonly string[], ttlSeconds: number): Promise<(CacheEntry | undefined)[]> {
    const { l1, metrics } = this.deps;
    const results: (CacheEntry | undefined)[] = keys.map((key) => l1.get(key));
    const missIndexes: number[] = [];
    for (const [index, entry] of results.entries()) if (entry === undefined) missIndexes.push(index);
    metrics.cacheLookups.inc({ layer: 'l1', type, result: 'hit' }, keys.length - missIndexes.length);
    if (missIndexes.length === 0) return results;
    metrics.cacheLookups.inc({ layer: 'l1', type, result: 'miss' }, missIndexes.length);

    const redis = this.deps.redis;
    if (!redis) return results;
    const askedAt = performance.now();
    let raw: (string | null)[];
    try {
      raw = await redis.run((r) => r.mget(missIndexes.map((i) => keys[i]!)));
    } catch {
      metrics.redisErrors.inc({ operation: 'mget' });
      return results;
    }
    let hits = 0;
    raw.forEach((text, position) => {
      if (text === null) return;
      const index = missIndexes[position]!;
      const value = decode<unknown>(text);
      results[index] = { value };
      // A value read before an invalidation arrived must not outlive it in L1.
      if (!this.invalidatedSince(keys[index]!, askedAt))
        this.deps.l1.set(keys[index]!, value, ttlSeconds * 1000, text.length);
      hits += 1;
    });
    metrics.cacheLookups.inc({ layer: 'redis', type, result: 'hit' }, hits);
    metrics.cacheLookups.inc({ layer: 'redis', type, result: 'miss' }, missIndexes.length - hits);
    return results;
  }

  /** Writes fills to both layers, except those invalidated since `fillStartedAt` (from fillStarted). */
  async setMany(writes: readonly CacheWrite[], fillStartedAt: number): Promise<void> {
    const fresh = writes.filter((w) => !this.invalidatedSince(w.key, fillStartedAt));
    if (fresh.length === 0) return;
    const encoded = fresh.map((w) => ({ key: w.key, text: encode(w.value), ttlMs: jitter(w.ttlSeconds * 1000) }));
    for (const [i, e] of encoded.entries()) this.deps.l1.set(e.key, fresh[i]!.value, e.ttlMs, e.text.length);
    const redis = this.deps.redis;
    if (!redis) return;
    const known = this.seqKnownAt(fillStartedAt);
    try {
      const args = encoded.flatMap((e) => [e.text, e.ttlMs]);
      await redis.run((r) => r.eval(FILL_LUA, encoded.length, ...encoded.map((e) => e.key), known, ...args));
    } catch {
      // A fill that cannot reach Redis only costs a future miss.
      this.deps.metrics.redisErrors.inc({ operation: 'set' });
    }
  }

  /**
   * Drops keys everywhere: this L1, Redis, and (through the bus) every other instance's L1. Keys that
   * are never in any L1 (sessions) pass `broadcast: false`: there is nothing to tell the others.
   */
  async invalidate(keys: readonly string[], options: { broadcast?: boolean } = {}): Promise<void> {
    const broadcast = options.broadcast ?? true;
    if (keys.length === 0) return;
    const now = performance.now();
    for (const key of keys) {
      this.deps.l1.delete(key);
      this.invalidatedAt.set(key, now);
    }
    this.pruneInvalidatedAt(now);
    const seq = await this.deleteFromRedis(keys, broadcast);
    // Keys never in an L1 (sessions) are never served by a loader either: no answer is built from them.
    if (broadcast) await this.notify({ keys, tags: [], remote: false });
    if (broadcast) await this.broadcast({ origin: this.instanceId, keys: [...keys], ...(seq && { seq }) }, true);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const key of keys) this.deps.l1.delete(key);
      void this.deleteFromRedis(keys, broadcast);
      if (broadcast) void this.notify({ keys, tags: [], remote: false });
      if (broadcast) void this.broadcast({ origin: this.instanceId, keys: [...keys] });
    }, SECOND_DELETE_DELAY_MS);
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * Drops every entry filed under the tags (e.g. every product list and count), on every instance: the
   * tags move to new generations, so every later lookup uses new keys.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const generations = await this.tags.bump(tags);
    await this.notify({ keys: [], tags, remote: false });
    await this.broadcast({ origin: this.instanceId, keys: [], tags: generations }, true);
  }

  private async notify(invalidated: Invalidated): Promise<void> {
    if (this.listeners.size === 0) return;
    await Promise.all(
      [...this.listeners].map((listener) => Promise.resolve(listener(invalidated)).catch(() => undefined)),
    );
  }

  /** Fills take milliseconds; a minute-old invalidation can no longer race one. */
  private pruneInvalidatedAt(now: number): void {
    if (this.invalidatedAt.size < 10_000) return;
    for (const [key, at] of this.invalidatedAt) if (now - at > 60_000) this.invalidatedAt.delete(key);
  }

  /** Deletes the keys from Redis; `mark`: with an invalidation number (entity keys). Returns the number. */
  private async deleteFromRedis(keys: readonly string[], mark: boolean): Promise<number | undefined> {
    const redis = this.deps.redis;
    if (!redis) return undefined;
    try {
      if (!mark) {
        await redis.run((r) => r.unlink(...keys));
        return undefined;
      }
      const counter = `${this.deps.prefix}:inv@seq`;
      const seq = Number(
        await redis.run((r) => r.eval(INVALIDATE_LUA, keys.length + 1, counter, ...keys, INVALIDATION_MARK_MS)),
      );
      this.noteSeq(seq);
      return seq;
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'unlink' });
      this.queueDeletes(keys);
      return undefined;
    }
  }

  private noteSeq(seq: number): void {
    const last = this.knownSeqs.at(-1);
    if (last && seq <= last.seq) return;
    const now = performance.now();
    this.knownSeqs.push({ at: now, seq });
    while (this.knownSeqs.length > 1 && now - this.knownSeqs[1]!.at > INVALIDATION_MARK_MS) this.knownSeqs.shift();
  }

  /** The highest invalidation number known at `at` (0 when older than what is kept: the safe side). */
  private seqKnownAt(at: number): number {
    for (let i = this.knownSeqs.length - 1; i >= 0; i -= 1)
      if (this.knownSeqs[i]!.at <= at) return this.knownSeqs[i]!.seq;
    return 0;
  }

  private queueDeletes(keys: readonly string[]): void {
    if (this.flushPrefixOnRecovery) return;
    for (const key of keys) this.pendingDeletes.add(key);
    if (this.pendingDeletes.size > MAX_PENDING_INVALIDATIONS) {
      this.pendingDeletes.clear();
      this.flushPrefixOnRecovery = true;
    }
  }

  /** `wait`: until the other instances have applied it (a write's own invalidation, not the backstop). */
  private async broadcast(message: InvalidationMessage, wait = false): Promise<void> {
    try {
      if (wait)
        await this.acks.publishAndWait((ackId) =>
          this.deps.bus.publish(INVALIDATION_TOPIC, ackId ? { ...message, ackId } : message),
        );
      else await this.deps.bus.publish(INVALIDATION_TOPIC, message);
    } catch {
      // The other instances cannot hear us now; their L1 TTL cap bounds how long they may serve the old value,
      // and the replay on recovery tells them again.
      this.deps.metrics.redisErrors.inc({ operation: 'publish' });
      this.queueDeletes(message.keys);
      if (message.prefixes?.length) this.flushPrefixOnRecovery = true;
    }
  }

  /** Runs when the Redis circuit closes: deletes what could not be deleted while Redis was away. */
  private async replayPendingDeletes(): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    try {
      // Tag bumps first: they are what makes lists fresh again, and there are few of them.
      const generations = await this.tags.replay();
      if (Object.keys(generations).length)
        await this.deps.bus.publish(INVALIDATION_TOPIC, { origin: this.instanceId, keys: [], tags: generations });
      if (this.flushPrefixOnRecovery) {
        this.flushPrefixOnRecovery = false;
        this.pendingDeletes.clear();
        // Cached entities only (their keys hold "@<version>"): sessions and rate-limit counters stay.
        await redis.run((r) => unlinkMatching(r, `${this.deps.prefix}:*@*`));
        await this.deps.bus.publish(INVALIDATION_TOPIC, {
          origin: this.instanceId,
          keys: [],
          prefixes: [`${this.deps.prefix}:`],
        });
        this.log.warn('flushed every cache key under the prefix after an outage with too many writes to replay');
        return;
      }
      const keys = [...this.pendingDeletes];
      this.pendingDeletes.clear();
      for (let i = 0; i < keys.length; i += 500) {
        const chunk = keys.slice(i, i + 500);
        await redis.run((r) => r.unlink(...chunk));
        await this.deps.bus.publish(INVALIDATION_TOPIC, { origin: this.instanceId, keys: chunk });
      }
      if (keys.length || Object.keys(generations).length) {
        this.log.info(
          { keys: keys.length, tags: Object.keys(generations).length },
          'replayed invalidations queued during the redis outage',
        );
      }
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'replay' });
      this.flushPrefixOnRecovery = true; // the next recovery flushes everything rather than guess
      this.log.warn('replaying queued invalidations failed: the next recovery flushes the whole prefix');
    }
  }
}

function jitter(ttlMs: number): number {
  return Math.max(1, Math.round(ttlMs * (1 - Math.random() * TTL_JITTER)));
}

async function unlinkMatching(redis: import('ioredis').Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}
