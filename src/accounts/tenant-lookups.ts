// An organization's cache hit rate across the cluster, for cacheStats(organizationId) (docs/ARCHITECTURE.md
// "Operations platform"). The loaders report lookups of tenant-scoped keys through CacheHooks; each instance
// adds them up in memory and flushes them every `flushMs` into one small Redis hash per organization, so
// every instance's lookups count and a lookup costs no Redis call. While Redis is away the counts wait in
// memory for the next flush.
import { execPipeline, type RedisCircuit } from '../redis/circuit-breaker.ts';
import type { Redis } from '../redis/connection.ts';

export interface TenantHitRate {
  /** Lookups of the organization's tenant-scoped entries (lists and counts). */
  lookups: number;
  hits: number;
  /** hits / lookups; null before any lookup. */
  hitRate: number | null;
}

interface Counts {
  hits: number;
  misses: number;
}

/** Organizations whose counts may wait in memory at once; beyond it, new ones are not counted until a flush. */
const MAX_PENDING = 10_000;
/** A hash nobody adds to for this long is dropped, with its organization's rate. */
const IDLE_TTL_SECONDS = 7 * 24 * 3600;

export class TenantLookups {
  private pending = new Map<string, Counts>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: { redis: RedisCircuit | undefined; prefix: string; flushMs: number }) {}

  record(organizationId: string, hits: number, misses: number): void {
    let counts = this.pending.get(organizationId);
    if (!counts) {
      if (this.pending.size >= MAX_PENDING) return;
      this.pending.set(organizationId, (counts = { hits: 0, misses: 0 }));
    }
    counts.hits += hits;
    counts.misses += misses;
  }

  start(): void {
    if (!this.deps.redis || this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.deps.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Adds what this instance counted to Redis; on failure the counts are kept for the next flush. */
  async flush(): Promise<void> {
    const redis = this.deps.redis;
    if (!redis || this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const write = async (r: Redis): Promise<void> => {
      await execPipeline(r, (pipeline) => {
        for (const [organizationId, { hits, misses }] of batch) {
          const key = this.keyOf(organizationId);
          pipeline.hincrby(key, 'hits', hits).hincrby(key, 'misses', misses).expire(key, IDLE_TTL_SECONDS);
        }
      });
    };
    await redis.attempt(write, 'tenant-lookups', () => {
      for (const [organizationId, { hits, misses }] of batch) this.record(organizationId, hits, misses);
    });
  }

  /** The cluster's counts in Redis plus what this instance has not flushed yet. */
  async read(r: Redis, organizationId: string): Promise<TenantHitRate> {
    const stored = await r.hmget(this.keyOf(organizationId), 'hits', 'misses');
    const local = this.pending.get(organizationId);
    const hits = Number(stored[0] ?? 0) + (local?.hits ?? 0);
    const lookups = hits + Number(stored[1] ?? 0) + (local?.misses ?? 0);
    return { lookups, hits, hitRate: lookups === 0 ? null : hits / lookups };
  }

  private keyOf(organizationId: string): string {
    return `${this.deps.prefix}:tenant-lookups:${organizationId}`;
  }
}
