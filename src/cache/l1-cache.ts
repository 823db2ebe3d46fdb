// L1: the in-process LRU in front of Redis. Bounded by bytes (an estimate: the encoded length), with a
// per-entry TTL. Values are stored decoded, ready to hand to resolvers, which never mutate them.
import { LRUCache } from 'lru-cache';

interface Entry {
  value: unknown;
}

export interface L1Options {
  maxBytes: number;
  /** Upper bound on any entry's life in L1, whatever its schema TTL: bounds staleness should an
   *  invalidation message from another instance be lost (Redis down at the time). */
  maxTtlSeconds: number;
}

export class L1Cache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly maxTtlMs: number;

  constructor(options: L1Options) {
    this.maxTtlMs = options.maxTtlSeconds * 1000;
    // ttlResolution 0: the clock is read per lookup, with no 1 ms timer to re-arm (see response-store.ts).
    this.lru = new LRUCache<string, Entry>({
      maxSize: options.maxBytes,
      ttlAutopurge: false,
      allowStale: false,
      ttlResolution: 0,
    });
  }

  /** undefined: not cached. { value: null }: known not to exist (negative entry). */
  get(key: string): Entry | undefined {
    return this.lru.get(key);
  }

  set(key: string, value: unknown, ttlMs: number, sizeBytes: number): void {
    this.lru.set(key, { value }, { ttl: Math.min(ttlMs, this.maxTtlMs), size: Math.max(1, sizeBytes) });
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Drops everything: after this instance may have missed invalidations (see app.ts). */
  clear(): void {
    this.lru.clear();
  }

  /** Drops every key starting with one of the prefixes (purge by type). */
  deleteByPrefix(prefixes: string[]): void {
    for (const key of this.lru.keys()) if (prefixes.some((p) => key.startsWith(p))) this.lru.delete(key);
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }
}
