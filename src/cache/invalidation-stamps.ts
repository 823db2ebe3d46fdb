// When each key was last invalidated on this instance. A fill that read PostgreSQL before then must not
// write its value back, and a read under way since before then must not be joined (read-your-writes).
const PRUNE_ABOVE = 10_000;
/** Fills take milliseconds: a minute-old invalidation can no longer race one. */
const FORGET_AFTER_MS = 60_000;

export class InvalidationStamps {
  private readonly at = new Map<string, number>();

  /** A point in time to pass to since(): take it before reading PostgreSQL for a fill. */
  now(): number {
    return performance.now();
  }

  stamp(keys: readonly string[]): void {
    const now = performance.now();
    for (const key of keys) this.at.set(key, now);
    if (this.at.size < PRUNE_ABOVE) return;
    for (const [key, at] of this.at) if (now - at > FORGET_AFTER_MS) this.at.delete(key);
  }

  /** Whether the key was invalidated at or after `since`: a read that started then is stale. */
  since(key: string, since: number): boolean {
    return (this.at.get(key) ?? -1) >= since;
  }
}
