// Fill coordination across instances: when a hot key expires under load, one instance reads it from
// PostgreSQL while the others wait a moment for the value to appear in Redis. A short Redis lock per key
// (SET NX PX) decides who fills; a crashed or slow filler costs one extra read, never a failure.
import { randomUUID } from 'node:crypto';
import { execPipeline, type RedisCircuit } from '../redis/circuit-breaker.ts';
import { unlinkAll } from '../redis/slots.ts';
import type { CacheHooks } from './cache-hooks.ts';
import type { CacheEntry, LayeredStore } from './layered-store.ts';

/** How long one instance may hold the right to fill a key from PostgreSQL. */
const FILL_LOCK_MS = 2_000;
/** How long another instance waits for that fill before reading PostgreSQL itself. */
const FILL_WAIT_MS = 250;
const FILL_POLL_MS = 15;

export class FillCoordinator {
  private readonly owner = randomUUID();

  constructor(
    private readonly redis: RedisCircuit | undefined,
    private readonly store: LayeredStore,
    private readonly hooks: CacheHooks,
  ) {}

  /**
   * Claims the right to fill each key. true: this instance fills it (also whenever Redis is absent or
   * down). false: another instance is filling it right now; wait for it with awaitFills.
   */
  async claimFills(keys: readonly string[]): Promise<boolean[]> {
    const claimAll = (): boolean[] => keys.map(() => true);
    const redis = this.redis;
    if (!redis || redis.state === 'open') return claimAll();
    const replies = await redis.attempt(
      (r) =>
        execPipeline(r, (pipeline) => {
          for (const key of keys) pipeline.set(`${key}:fill`, this.owner, 'PX', FILL_LOCK_MS, 'NX');
        }),
      'claim-fill',
      () => undefined,
    );
    return replies?.map((reply) => reply === 'OK') ?? claimAll();
  }

  /** Releases fill claims once the values are in Redis (or the read failed). */
  async releaseFills(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.redis?.attempt(
      (r) =>
        unlinkAll(
          r,
          keys.map((k) => `${k}:fill`),
        ),
      'release-fill',
      () => 0,
    );
  }

  /**
   * Waits a moment for other instances' fills to land in Redis. Returns what arrived; the caller reads
   * PostgreSQL for the rest.
   */
  async awaitFills(type: string, keys: readonly string[], ttlSeconds: number): Promise<(CacheEntry | undefined)[]> {
    const results: (CacheEntry | undefined)[] = keys.map(() => undefined);
    const deadline = performance.now() + FILL_WAIT_MS;
    while (performance.now() < deadline && this.redis?.state === 'closed') {
      await new Promise((resolve) => setTimeout(resolve, FILL_POLL_MS));
      const waiting = results.flatMap((entry, index) => (entry === undefined ? [index] : []));
      const found = await this.store.readRedis(
        waiting.map((i) => keys[i]!),
        ttlSeconds,
        'await-fill',
      );
      if (!found) break;
      found.forEach((entry, position) => {
        if (entry !== undefined) results[waiting[position]!] = entry;
      });
      if (results.every((entry) => entry !== undefined)) break;
    }
    this.hooks.lookups('redis', type, 'hit', results.filter((entry) => entry !== undefined).length);
    return results;
  }
}
