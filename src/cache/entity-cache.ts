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
// - Lists and counts are filed under tags (a Redis set per tag, listing its keys): a write purges a tag
//   in one round trip instead of scanning the keyspace.
// - A second delete follows each invalidation after a short delay: it removes a stale value that a
//   reader which fetched from PostgreSQL just before the write committed may have put back.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../server/logger.ts';
import type { Metrics } from '../server/metrics.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { decode, encode } from './codec.ts';
import type { L1Cache } from './l1-cache.ts';

export const INVALIDATION_TOPIC = 'cache-invalidate';
const MAX_PENDING_INVALIDATIONS = 50_000;
const SECOND_DELETE_DELAY_MS = 750;
const TTL_JITTER = 0.1;
/** How much longer than its longest-lived entry a tag set lives. */
const TAG_TTL_MARGIN_MS = 60_000;
/** How long one instance may hold the right to fill a key from PostgreSQL. */
const FILL_LOCK_MS = 2_000;
/** How long another instance waits for that fill before reading PostgreSQL itself. */
const FILL_WAIT_MS = 250;
const FILL_POLL_MS = 15;
/** In the pending-deletes queue, marks a tag to purge rather than a key to delete. */
const TAG_MARK = '#tag:';

export interface CacheEntry {
  /** null: the entity is known not to exist (negative entry). */
  value: unknown;
}

export interface CacheWrite {
  key: string;
  value: unknown;
  ttlSeconds: number;
  /** Tags the entry is filed under (e.g. 'Product' for a product list): invalidateTags drops it. */
  tags?: readonly string[];
}

interface InvalidationMessage {
  origin: string;
  keys: string[];
  tags?: string[];
  prefixes?: string[];
}

// Drops every member of each tag set, then the set itself: one round trip however many entries a tag has.
// (It touches keys not passed in KEYS, which Redis Cluster forbids; this gateway targets one primary.)
const INVALIDATE_TAGS_LUA = `
local dropped = 0
for _, tagKey in ipairs(KEYS) do
  local members = redis.call('SMEMBERS', tagKey)
  for first = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, first, math.min(first + 499, #members)))
  end
  dropped = dropped + #members
  redis.call('UNLINK', tagKey)
end
return dropped`;

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
  private readonly timers = new Set<NodeJS.Timeout>();
  /** When each key was last invalidated: a fill that read PostgreSQL before then must not write back. */
  private readonly invalidatedAt = new Map<string, number>();
  /** This instance's L1 keys by tag, so a tag purge touches only its own entries. */
  private readonly l1Tags = new Map<string, Set<string>>();
  private readonly log: Logger;

  constructor(private readonly deps: EntityCacheDeps) {
    this.log = deps.logger.child({ component: 'entity-cache' });
    deps.redis?.on('state', (state) => {
      deps.metrics.redisCircuitOpen.set(state === 'open' ? 1 : 0);
      if (state === 'closed') void this.replayPendingDeletes();
    });
    deps.metrics.redisCircuitOpen.set(deps.redis?.state === 'open' ? 1 : 0);
  }

  /** Listen for other instances' invalidations; called once at start-up. */
  async start(): Promise<void> {
    this.unsubscribe = await this.deps.bus.subscribe(INVALIDATION_TOPIC, (payload) => {
      const message = payload as InvalidationMessage;
      if (message.origin === this.instanceId) return;
      // Also stamp them, so a fill here that read PostgreSQL before the other instance's write cannot
      // put the old value back into our L1 once this message has passed.
      const now = performance.now();
      for (const key of message.keys) {
        this.deps.l1.delete(key);
        this.invalidatedAt.set(key, now);
      }
      for (const tag of message.tags ?? []) this.invalidatedAt.set(this.tagKey(tag), now);
      if (message.tags?.length) this.dropL1Tags(message.tags);
      if (message.prefixes?.length) this.deps.l1.deleteByPrefix(message.prefixes);
    });
  }

  stop(): void {
    this.unsubscribe?.();
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
  async awaitFills(type: string, keys: readonly string[], ttlSeconds: number, tags?: readonly string[]): Promise<(CacheEntry | undefined)[]> {
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
        this.setL1(keys[index]!, value, ttlSeconds * 1000, text.length, tags);
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

  /** One lookup per key, in order: undefined for a miss in both layers. */
  async getMany(type: string, keys: readonly string[], ttlSeconds: number, tags?: readonly string[]): Promise<(CacheEntry | undefined)[]> {
    const { l1, metrics } = this.deps;
    const results: (CacheEntry | undefined)[] = keys.map((key) => l1.get(key));
    const missIndexes: number[] = [];
    results.forEach((entry, index) => entry === undefined && missIndexes.push(index));
    metrics.cacheLookups.inc({ layer: 'l1', type, result: 'hit' }, keys.length - missIndexes.length);
    if (missIndexes.length === 0) return results;
    metrics.cacheLookups.inc({ layer: 'l1', type, result: 'miss' }, missIndexes.length);

    const redis = this.deps.redis;
    if (!redis) return results;
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
      this.setL1(keys[index]!, value, ttlSeconds * 1000, text.length, tags);
      hits += 1;
    });
    metrics.cacheLookups.inc({ layer: 'redis', type, result: 'hit' }, hits);
    metrics.cacheLookups.inc({ layer: 'redis', type, result: 'miss' }, missIndexes.length - hits);
    return results;
  }

  /** Writes fills to both layers, except those invalidated since `fillStartedAt` (from fillStarted). */
  async setMany(writes: readonly CacheWrite[], fillStartedAt: number): Promise<void> {
    const staleSince = (w: CacheWrite): number =>
      Math.max(this.invalidatedAt.get(w.key) ?? -1, ...(w.tags ?? []).map((t) => this.invalidatedAt.get(this.tagKey(t)) ?? -1));
    const fresh = writes.filter((w) => staleSince(w) < fillStartedAt);
    if (fresh.length === 0) return;
    const encoded = fresh.map((w) => ({ key: w.key, text: encode(w.value), ttlMs: jitter(w.ttlSeconds * 1000) }));
    encoded.forEach((e, i) => this.setL1(e.key, fresh[i]!.value, e.ttlMs, e.text.length, fresh[i]!.tags));
    const redis = this.deps.redis;
    if (!redis) return;
    try {
      await redis.pipeline((pipeline) => {
        encoded.forEach((e, i) => {
          pipeline.set(e.key, e.text, 'PX', e.ttlMs);
          for (const tag of fresh[i]!.tags ?? []) {
            // The tag set must outlive every entry it lists (jitter makes their TTLs differ), and never
            // live for ever: give it an expiry if it has none, and otherwise only ever lengthen it.
            const tagKey = this.tagKey(tag);
            const tagTtlMs = fresh[i]!.ttlSeconds * 1000 + TAG_TTL_MARGIN_MS;
            pipeline.sadd(tagKey, e.key).pexpire(tagKey, tagTtlMs, 'NX').pexpire(tagKey, tagTtlMs, 'GT');
          }
        });
      });
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
    await this.deleteFromRedis(keys);
    if (broadcast) await this.broadcast({ origin: this.instanceId, keys: [...keys] });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      for (const key of keys) this.deps.l1.delete(key);
      void this.deleteFromRedis(keys);
      if (broadcast) void this.broadcast({ origin: this.instanceId, keys: [...keys] });
    }, SECOND_DELETE_DELAY_MS);
    timer.unref();
    this.timers.add(timer);
  }

  /** Drops every entry filed under the tags (e.g. every product list and count), on every instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (tags.length === 0) return;
    const now = performance.now();
    for (const tag of tags) this.invalidatedAt.set(this.tagKey(tag), now);
    this.dropL1Tags(tags);
    const redis = this.deps.redis;
    if (redis) {
      try {
        await redis.run((r) => r.eval(INVALIDATE_TAGS_LUA, tags.length, ...tags.map((t) => this.tagKey(t))));
      } catch {
        this.deps.metrics.redisErrors.inc({ operation: 'invalidate-tags' });
        this.queueDeletes(tags.map((t) => `${TAG_MARK}${t}`));
      }
    }
    await this.broadcast({ origin: this.instanceId, keys: [], tags: [...tags] });
  }

  private tagKey(tag: string): string {
    return `${this.deps.prefix}:tag:${tag}`;
  }

  private setL1(key: string, value: unknown, ttlMs: number, sizeBytes: number, tags: readonly string[] | undefined): void {
    this.deps.l1.set(key, value, ttlMs, sizeBytes);
    for (const tag of tags ?? []) {
      let members = this.l1Tags.get(tag);
      if (!members) this.l1Tags.set(tag, (members = new Set()));
      members.add(key);
    }
  }

  private dropL1Tags(tags: readonly string[]): void {
    for (const tag of tags) {
      for (const key of this.l1Tags.get(tag) ?? []) this.deps.l1.delete(key);
      this.l1Tags.delete(tag);
    }
  }

  /** Fills take milliseconds; a minute-old invalidation can no longer race one. */
  private pruneInvalidatedAt(now: number): void {
    if (this.invalidatedAt.size < 10_000) return;
    for (const [key, at] of this.invalidatedAt) if (now - at > 60_000) this.invalidatedAt.delete(key);
  }

  private async deleteFromRedis(keys: readonly string[]): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    try {
      await redis.run((r) => r.unlink(...keys));
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'unlink' });
      this.queueDeletes(keys);
    }
  }

  private queueDeletes(keys: readonly string[]): void {
    if (this.flushPrefixOnRecovery) return;
    for (const key of keys) this.pendingDeletes.add(key);
    if (this.pendingDeletes.size > MAX_PENDING_INVALIDATIONS) {
      this.pendingDeletes.clear();
      this.flushPrefixOnRecovery = true;
    }
  }

  private async broadcast(message: InvalidationMessage): Promise<void> {
    try {
      await this.deps.bus.publish(INVALIDATION_TOPIC, message);
    } catch {
      // The other instances cannot hear us now; their L1 TTL cap bounds how long they may serve the old value,
      // and the replay on recovery tells them again.
      this.deps.metrics.redisErrors.inc({ operation: 'publish' });
      this.queueDeletes([...message.keys, ...(message.tags ?? []).map((t) => `${TAG_MARK}${t}`)]);
      if (message.prefixes?.length) this.flushPrefixOnRecovery = true;
    }
  }

  /** Runs when the Redis circuit closes: deletes what could not be deleted while Redis was away. */
  private async replayPendingDeletes(): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    try {
      if (this.flushPrefixOnRecovery) {
        this.flushPrefixOnRecovery = false;
        this.pendingDeletes.clear();
        await redis.run((r) => unlinkMatching(r, `${this.deps.prefix}:*`));
        await this.deps.bus.publish(INVALIDATION_TOPIC, { origin: this.instanceId, keys: [], prefixes: [`${this.deps.prefix}:`] });
        this.log.warn('flushed every cache key under the prefix after an outage with too many writes to replay');
        return;
      }
      const pending = [...this.pendingDeletes];
      this.pendingDeletes.clear();
      const tags = pending.filter((k) => k.startsWith(TAG_MARK)).map((k) => k.slice(TAG_MARK.length));
      const keys = pending.filter((k) => !k.startsWith(TAG_MARK));
      if (tags.length) {
        await redis.run((r) => r.eval(INVALIDATE_TAGS_LUA, tags.length, ...tags.map((t) => this.tagKey(t))));
        await this.deps.bus.publish(INVALIDATION_TOPIC, { origin: this.instanceId, keys: [], tags });
      }
      for (let i = 0; i < keys.length; i += 500) {
        const chunk = keys.slice(i, i + 500);
        await redis.run((r) => r.unlink(...chunk));
        await this.deps.bus.publish(INVALIDATION_TOPIC, { origin: this.instanceId, keys: chunk });
      }
      if (pending.length) this.log.info({ keys: keys.length, tags: tags.length }, 'replayed invalidations queued during the redis outage');
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
