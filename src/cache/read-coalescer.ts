// How concurrent reads of PostgreSQL are merged across the requests of one process. The per-request
// DataLoader (loader-factory.ts) batches and memoises inside one request; everything between requests
// happens here, in one object per loader spec:
// - a key some request is already reading is joined, not read again, unless a write has invalidated it
//   since that read started (read-your-writes);
// - keys that different requests miss in the same tick are read with one query (a DataLoader that only
//   batches, never caches: caching is the layers' job, and a value read for one request must not be
//   handed to a later one from here);
// - across instances, one instance fills a key while the others wait a moment for it to appear in Redis
//   (fill-coordinator.ts); the fill is written before the claim is released, so the waiters find it.
import DataLoader from 'dataloader';
import type { CacheHooks } from './cache-hooks.ts';
import type { CacheWrite, EntityCache } from './entity-cache.ts';
import type { LoaderSpec } from './loader-spec.ts';

/** Ids that do not exist are cached negatively this long at most, so random ids cannot hammer PostgreSQL. */
const NEGATIVE_TTL_SECONDS = 30;

/** A read under way, and when it started: a read that began before the key's last invalidation is not joined. */
interface InflightRead {
  value: Promise<unknown>;
  startedAt: number;
}

/** One key to read from PostgreSQL, with the cache key its value is filled under. */
interface DatabaseRead {
  key: unknown;
  cacheKey: string;
}

/**
 * Values pass through here untyped, as they pass through the cache layers: the per-request loader that
 * asked for them (loader-factory.ts) knows their type.
 */
export class ReadCoalescer {
  private readonly inflight = new Map<string, InflightRead>();
  private readonly batcher: DataLoader<DatabaseRead, unknown>;
  private readonly negativeTtl: number;

  constructor(
    private readonly spec: LoaderSpec<unknown, unknown>,
    private readonly cache: EntityCache,
    hooks: CacheHooks,
  ) {
    this.negativeTtl = Math.min(NEGATIVE_TTL_SECONDS, spec.ttlSeconds);
    this.batcher = new DataLoader<DatabaseRead, unknown>(
      async (reads) => {
        hooks.lookups('db', spec.type, 'miss', reads.length);
        return this.fetchAndFill(reads);
      },
      { cache: false, maxBatchSize: 1000 },
    );
  }

  /**
   * The values of keys no cache layer had, in order (null where a key does not exist). `onFetch` runs
   * once for each read this call sends to PostgreSQL.
   */
  async read(keys: readonly unknown[], cacheKeys: readonly string[], onFetch: () => void): Promise<unknown[]> {
    const results: unknown[] = new Array(keys.length);
    const waits: Promise<void>[] = [];
    const toFetch: number[] = [];
    const settle = (index: number, value: Promise<unknown>): void =>
      void waits.push(value.then((v) => void (results[index] = v ?? null)));
    cacheKeys.forEach((cacheKey, index) => {
      const pending = this.inflight.get(cacheKey);
      if (pending && !this.cache.invalidatedSince(cacheKey, pending.startedAt)) settle(index, pending.value);
      else toFetch.push(index);
    });
    if (toFetch.length > 0) {
      const startedAt = this.cache.fillStarted();
      const read = this.readOnce(
        toFetch.map((i) => keys[i]!),
        toFetch.map((i) => cacheKeys[i]!),
        onFetch,
      );
      toFetch.forEach((index, position) => {
        const cacheKey = cacheKeys[index]!;
        const entry: InflightRead = { value: read.then((values) => values[position] ?? null), startedAt };
        this.inflight.set(cacheKey, entry);
        // Only remove our own entry: a later read of the same key may have replaced it.
        const forget = (): void => void (this.inflight.get(cacheKey) === entry && this.inflight.delete(cacheKey));
        entry.value.then(forget, forget);
        settle(index, entry.value);
      });
    }
    await Promise.all(waits);
    return results;
  }

  /**
   * Reads keys nobody here is reading. Across instances only one fills a key at a time: keys another
   * instance is already filling are waited for, and read here only if that fill does not arrive in time.
   */
  private async readOnce(keys: unknown[], cacheKeys: string[], onFetch: () => void): Promise<unknown[]> {
    const claims = await this.cache.claimFills(cacheKeys);
    const ours = claims.flatMap((claimed, i) => (claimed ? [i] : []));
    const theirs = claims.flatMap((claimed, i) => (claimed ? [] : [i]));
    const values: unknown[] = new Array(keys.length);
    const fillOurs = async (indexes: number[]): Promise<void> => {
      if (indexes.length === 0) return;
      onFetch();
      const read = await this.batcher.loadMany(indexes.map((i) => ({ key: keys[i]!, cacheKey: cacheKeys[i]! })));
      for (const [position, index] of indexes.entries()) {
        const value = read[position];
        if (value instanceof Error) throw value;
        values[index] = value;
      }
    };
    const waitForTheirs = async (): Promise<void> => {
      if (theirs.length === 0) return;
      const { type, ttlSeconds } = this.spec;
      const arrived = await this.cache.awaitFills(
        type,
        theirs.map((i) => cacheKeys[i]!),
        ttlSeconds,
      );
      const late: number[] = [];
      theirs.forEach((index, position) => {
        const entry = arrived[position];
        if (entry === undefined) late.push(index);
        else values[index] = entry.value ?? undefined;
      });
      await fillOurs(late);
    };
    try {
      await Promise.all([fillOurs(ours), waitForTheirs()]);
    } finally {
      void this.cache.releaseFills(ours.map((i) => cacheKeys[i]!));
    }
    return values;
  }

  /** One query for the batch, then its values (and negative entries for the ids not found) into the layers. */
  private async fetchAndFill(reads: readonly DatabaseRead[]): Promise<unknown[]> {
    const { spec } = this;
    const started = this.cache.fillStarted();
    const found = await spec.fetch(reads.map((r) => r.key));
    const values = reads.map((r) => found.get(spec.idOf(r.key)));
    const writes: CacheWrite[] = values.map((value, i) => ({
      key: reads[i]!.cacheKey,
      value: value ?? null,
      ttlSeconds: value === undefined && spec.missing === null ? this.negativeTtl : spec.ttlSeconds,
    }));
    await this.cache.setMany(writes, started);
    return values;
  }
}
