// When each key was last invalidated on this instance. A fill that read PostgreSQL before then must not
// write its value back, and a read under way since before then must not be joined (read-your-writes).
// The response store keeps its purge stamps here too (response-cache/response-store.ts).
//
// The map is kept in stamp order (a key stamped again moves to the end), so forgetting old stamps only
// looks at the oldest ones: amortised O(1) per stamp, never a scan of every key.

/** Fills and executions take at most the request timeout: a minute-old invalidation can no longer race one. */
const FORGET_AFTER_MS = 60_000;

export class InvalidationStamps {
  private readonly at = new Map<string, number>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** A point in time to pass to since(): take it before reading PostgreSQL for a fill. */
  now(): number {
    return this.clock();
  }

  stamp(keys: readonly string[]): void {
    const now = this.clock();
    for (const key of keys) {
      this.at.delete(key);
      this.at.set(key, now);
    }
    for (const [key, at] of this.at) {
      if (now - at <= FORGET_AFTER_MS) break;
      this.at.delete(key);
    }
  }

  /** Whether the key was invalidated at or after `since`: a read that started then is stale. */
  since(key: string, since: number): boolean {
    return (this.at.get(key) ?? -1) >= since;
  }

  /** How many keys are remembered. */
  get size(): number {
    return this.at.size;
  }
}
