// The layered read/write path under the per-request loaders: L1 (in-process LRU), then L2 (Redis).
//
// Decisions:
// - One MGET per batch for the L1 misses, one pipelined SET PX for the fills: a batch costs at most two
//   Redis round trips, whatever its size.
// - Redis failures never fail a read: the layer reports a miss and the loader goes to PostgreSQL. The
//   circuit breaker makes that instant while Redis is down (no waiting on a dead socket).
// - TTLs get up to 10% taken off at random, so keys written together do not expire together.
// - A fill is not written when its key was invalidated after the fill read PostgreSQL: not to L1 (stamps),
//   and not to Redis when another instance's write may have come after the read (invalidation-sequence.ts).
// - A value read from Redis before an invalidation arrived is not copied into L1 after it.
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { mgetAll } from '../redis/slots.ts';
import type { CacheHooks } from './cache-hooks.ts';
import { decode, encode } from './codec.ts';
import { fillUnlessMarked, type InvalidationSequence } from './invalidation-sequence.ts';
import type { InvalidationStamps } from './invalidation-stamps.ts';
import type { L1Cache } from './l1-cache.ts';

const TTL_JITTER = 0.1;

export interface CacheEntry {
  /** null: the entity is known not to exist (negative entry). */
  value: unknown;
}

export interface CacheWrite {
  key: string;
  value: unknown;
  ttlSeconds: number;
}

export interface LayeredStoreDeps {
  l1: L1Cache;
  /** Absent in single-instance mode (no REDIS_URL). */
  redis: RedisCircuit | undefined;
  stamps: InvalidationStamps;
  sequence: InvalidationSequence;
  hooks: CacheHooks;
}

export class LayeredStore {
  constructor(private readonly deps: LayeredStoreDeps) {}

  /** One lookup per key, in order: undefined for a miss in both layers. */
  async getMany(type: string, keys: readonly string[], ttlSeconds: number): Promise<(CacheEntry | undefined)[]> {
    const { l1, hooks } = this.deps;
    const results: (CacheEntry | undefined)[] = keys.map((key) => l1.get(key));
    const missIndexes: number[] = [];
    for (const [index, entry] of results.entries()) if (entry === undefined) missIndexes.push(index);
    hooks.lookups('l1', type, 'hit', keys.length - missIndexes.length);
    if (missIndexes.length === 0) return results;
    hooks.lookups('l1', type, 'miss', missIndexes.length);

    const found = await this.readRedis(
      missIndexes.map((i) => keys[i]!),
      ttlSeconds,
      'mget',
    );
    if (!found) return results;
    let hits = 0;
    found.forEach((entry, position) => {
      if (entry === undefined) return;
      results[missIndexes[position]!] = entry;
      hits += 1;
    });
    hooks.lookups('redis', type, 'hit', hits);
    hooks.lookups('redis', type, 'miss', missIndexes.length - hits);
    return results;
  }

  /**
   * One MGET: what Redis holds for each key (undefined when absent), copied into L1 on the way. undefined
   * as a whole when Redis is absent or unreachable (counted under `operation`).
   */
  async readRedis(
    keys: readonly string[],
    ttlSeconds: number,
    operation: string,
  ): Promise<(CacheEntry | undefined)[] | undefined> {
    const askedAt = this.deps.stamps.now();
    const raw = await this.deps.redis?.attempt(
      (r) => mgetAll(r, keys),
      operation,
      () => undefined,
    );
    return raw?.map((text, index) => {
      if (text === null) return undefined;
      const value = decode<unknown>(text);
      const key = keys[index]!;
      if (!this.deps.stamps.since(key, askedAt)) this.deps.l1.set(key, value, ttlSeconds * 1000, text.length);
      return { value };
    });
  }

  /** Writes fills to both layers, except those invalidated since `fillStartedAt` (from stamps.now()). */
  async setMany(writes: readonly CacheWrite[], fillStartedAt: number): Promise<void> {
    const fresh = writes.filter((w) => !this.deps.stamps.since(w.key, fillStartedAt));
    if (fresh.length === 0) return;
    const encoded = fresh.map((w) => ({ key: w.key, text: encode(w.value), ttlMs: jitter(w.ttlSeconds * 1000) }));
    for (const [i, e] of encoded.entries()) this.deps.l1.set(e.key, fresh[i]!.value, e.ttlMs, e.text.length);
    // A fill that cannot reach Redis only costs a future miss.
    const known = this.deps.sequence.knownAt(fillStartedAt);
    await this.deps.redis?.attempt(
      (r) => fillUnlessMarked(r, encoded, known).then(() => 0),
      'set',
      () => 0,
    );
  }
}

function jitter(ttlMs: number): number {
  return Math.max(1, Math.round(ttlMs * (1 - Math.random() * TTL_JITTER)));
}
