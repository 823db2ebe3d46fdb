// The loader factory: for any entity type or relation edge, a per-request DataLoader whose batch
// function goes L1 -> Redis -> PostgreSQL and fills the layers above on the way back
// (ARCHITECTURE rule 3: no N+1, ever).
//
// Decisions:
// - DataLoader gives per-request batching and per-request memoisation; the EntityCache under it is
//   shared by all requests of the process (L1) and all instances (Redis).
// - Misses are coalesced across requests of this process: while one batch is reading a key from
//   PostgreSQL, any other request missing the same key waits for that read instead of issuing its own;
//   and keys that different requests miss in the same tick are read with one query (databaseBatcher).
// - Ids that do not exist are cached as negative entries for a short time, so asking for random ids
//   cannot hammer PostgreSQL.
// - Across instances, a short Redis lock per key lets one instance fill it while the others wait a
//   moment for the value to appear in Redis (entity-cache.ts claimFills / awaitFills): a hot key
//   expiring under load costs a bounded number of database reads, not one per instance per request.
// - The fill is awaited before the fill lock is released, so waiting instances find the value.
import DataLoader from 'dataloader';
import type { Metrics } from '../infra/metrics.ts';
import type { EntityCache, CacheWrite } from './entity-cache.ts';
import type { KeyBuilder } from './keys.ts';

export interface LoaderSpec<K, V> {
  /** Names the key namespace and the metrics label: 'Product', or 'Category.products' for an edge. */
  type: string;
  /** From the schema's @cacheControl hints (cache-policy.ts). */
  ttlSeconds: number;
  /** How long a missing id stays negatively cached; defaults to min(30 s, ttl). */
  negativeTtlSeconds?: number;
  /** A stable string id of a key; also the DataLoader cache key. */
  idOf(key: K): string;
  /** Tenant-scoped types put the tenant in every cache key. */
  tenantOf?(key: K): string | undefined;
  /** One database query for all the keys, returning values by idOf(key); absent means "does not exist". */
  fetch(keys: readonly K[]): Promise<Map<string, V>>;
  /** What a missing key resolves to: null for entities, [] for relation lists. */
  missing: V | null;
  /** Tags to file entries under (lists and counts): their generations are part of the keys, and a write
   *  purges them with EntityCache.invalidateTags (tag-generations.ts). */
  tags?: readonly string[];
}

/** Shared by every request of the process; created once in the composition root. */
export interface LoaderRuntime {
  cache: EntityCache;
  keys: KeyBuilder;
  metrics: Metrics;
  /** Reads of PostgreSQL under way, by cache key: the cross-request coalescing table. */
  inflight: Map<string, InflightRead>;
  /** One batcher per spec, shared by every request of the process (see databaseBatcher). */
  databaseBatchers: WeakMap<object, DataLoader<DatabaseRead<unknown>, unknown, DatabaseRead<unknown>>>;
}

export function createLoaderRuntime(parts: Pick<LoaderRuntime, 'cache' | 'keys' | 'metrics'>): LoaderRuntime {
  return { ...parts, inflight: new Map(), databaseBatchers: new WeakMap() };
}

/** A read under way, and when it started: a read that began before the key's last invalidation is not joined. */
interface InflightRead {
  value: Promise<unknown>;
  startedAt: number;
}

/** One key to read from PostgreSQL, with the cache key its value is filled under. */
interface DatabaseRead<K> {
  key: K;
  cacheKey: string;
}

/** Per-request counters, kept in the GraphQL context. */
export interface RequestStats {
  dbQueries: number;
  /** When the answer may be stored (response cache): every entity key and `tag:<name>` the loaders served. */
  touched?: Set<string>;
}

const DEFAULT_NEGATIVE_TTL_SECONDS = 30;

export function createCachedLoader<K, V>(
  spec: LoaderSpec<K, V>,
  runtime: LoaderRuntime,
  stats: RequestStats,
): DataLoader<K, V | null, string> {
  const negativeTtl = spec.negativeTtlSeconds ?? Math.min(DEFAULT_NEGATIVE_TTL_SECONDS, spec.ttlSeconds);

  async function batch(keys: readonly K[]): Promise<(V | null)[]> {
    runtime.metrics.loaderBatchSize.observe({ type: spec.type }, keys.length);
    const generation = spec.tags ? await runtime.cache.tagKeyPart(spec.tags) : undefined;
    const cacheKeys = keys.map((key) =>
      runtime.keys.entityKey(spec.type, spec.idOf(key), spec.tenantOf?.(key), generation),
    );
    if (stats.touched) recordTouched(stats.touched, spec, cacheKeys);
    const cached = await runtime.cache.getMany(spec.type, cacheKeys, spec.ttlSeconds);
    const results: (V | null)[] = new Array(keys.length);
    const waits: Promise<void>[] = [];
    const toFetch: number[] = [];
    cached.forEach((entry, index) => {
      if (entry !== undefined) {
        results[index] = (entry.value as V | null) ?? spec.missing;
        return;
      }
      const cacheKey = cacheKeys[index]!;
      const pending = runtime.inflight.get(cacheKey);
      // Join a read under way only if no write has invalidated the key since it started (read-your-writes).
      if (pending && !runtime.cache.invalidatedSince(cacheKey, pending.startedAt)) {
        waits.push(pending.value.then((value) => void (results[index] = (value as V | null) ?? spec.missing)));
      } else toFetch.push(index);
    });
    if (toFetch.length > 0) {
      const startedAt = runtime.cache.fillStarted();
      const read = readFromDatabase(
        toFetch.map((i) => keys[i]!),
        toFetch.map((i) => cacheKeys[i]!),
      );
      toFetch.forEach((index, position) => {
        const cacheKey = cacheKeys[index]!;
        const entry: InflightRead = { value: read.then((values) => values[position] ?? null), startedAt };
        runtime.inflight.set(cacheKey, entry);
        // Only remove our own entry: a later read of the same key may have replaced it.
        const forget = (): void => void (runtime.inflight.get(cacheKey) === entry && runtime.inflight.delete(cacheKey));
        entry.value.then(forget, forget);
        waits.push(entry.value.then((value) => void (results[index] = (value as V | null) ?? spec.missing)));
      });
    }
    await Promise.all(waits);
    return results;
  }

  /**
   * Reads the keys no layer had. Across instances only one fills a key at a time: keys another instance
   * is already filling are waited for, and read here only if that fill does not arrive in time.
   */
  async function readFromDatabase(keys: K[], cacheKeys: string[]): Promise<(V | undefined)[]> {
    const claims = await runtime.cache.claimFills(cacheKeys);
    const ours = claims.flatMap((claimed, i) => (claimed ? [i] : []));
    const theirs = claims.flatMap((claimed, i) => (claimed ? [] : [i]));
    const values: (V | undefined)[] = new Array(keys.length);
    const fillOurs = async (indexes: number[]): Promise<void> => {
      if (indexes.length === 0) return;
      const read = await fetchAndFill(
        indexes.map((i) => keys[i]!),
        indexes.map((i) => cacheKeys[i]!),
      );
      for (const [position, index] of indexes.entries()) values[index] = read[position];
    };
    const waitForTheirs = async (): Promise<void> => {
      if (theirs.length === 0) return;
      const arrived = await runtime.cache.awaitFills(
        spec.type,
        theirs.map((i) => cacheKeys[i]!),
        spec.ttlSeconds,
      );
      const late: number[] = [];
      theirs.forEach((index, position) => {
        const entry = arrived[position];
        if (entry === undefined) late.push(index);
        else values[index] = (entry.value ?? undefined) as V | undefined;
      });
      await fillOurs(late);
    };
    try {
      await Promise.all([fillOurs(ours), waitForTheirs()]);
    } finally {
      void runtime.cache.releaseFills(ours.map((i) => cacheKeys[i]!));
    }
    return values;
  }

  /**
   * Reads from PostgreSQL through the process-wide batcher of this spec: keys missed by different
   * requests in the same tick share one SQL query, as keys of one request already do.
   */
  async function fetchAndFill(keys: K[], cacheKeys: string[]): Promise<(V | undefined)[]> {
    stats.dbQueries += 1;
    const values = await databaseBatcher(spec, runtime, negativeTtl).loadMany(
      keys.map((key, i) => ({ key, cacheKey: cacheKeys[i]! })),
    );
    return values.map((value) => {
      if (value instanceof Error) throw value;
      return value as V | undefined;
    });
  }

  return new DataLoader<K, V | null, string>(batch, { cacheKeyFn: spec.idOf, maxBatchSize: 1000 });
}

/** Lists are known by their tags (their keys change with every generation), entities by their keys. */
function recordTouched(touched: Set<string>, spec: { tags?: readonly string[] }, cacheKeys: readonly string[]): void {
  if (spec.tags) for (const tag of spec.tags) touched.add(`tag:${tag}`);
  else for (const key of cacheKeys) touched.add(key);
}

/**
 * The batcher that reads a spec's keys from PostgreSQL for every request of the process. It only
 * batches (cache: false): caching is the layers' job, and a value read for one request must not be
 * handed to a later one from here.
 */
function databaseBatcher<K, V>(
  spec: LoaderSpec<K, V>,
  runtime: LoaderRuntime,
  negativeTtl: number,
): DataLoader<DatabaseRead<K>, V | undefined> {
  let batcher = runtime.databaseBatchers.get(spec) as DataLoader<DatabaseRead<K>, V | undefined> | undefined;
  if (!batcher) {
    batcher = new DataLoader<DatabaseRead<K>, V | undefined>(
      async (reads) => {
        runtime.metrics.cacheLookups.inc({ layer: 'db', type: spec.type, result: 'miss' }, reads.length);
        const started = runtime.cache.fillStarted();
        const found = await spec.fetch(reads.map((r) => r.key));
        const values = reads.map((r) => found.get(spec.idOf(r.key)));
        const writes: CacheWrite[] = values.map((value, i) => ({
          key: reads[i]!.cacheKey,
          value: value ?? null,
          ttlSeconds: value === undefined && spec.missing === null ? negativeTtl : spec.ttlSeconds,
        }));
        await runtime.cache.setMany(writes, started);
        return values;
      },
      { cache: false, maxBatchSize: 1000 },
    );
    runtime.databaseBatchers.set(spec, batcher as DataLoader<DatabaseRead<unknown>, unknown, DatabaseRead<unknown>>);
  }
  return batcher;
}

/** What a domain needs to build its loaders for one request. */
export interface LoaderDeps {
  runtime: LoaderRuntime;
  stats: RequestStats;
  /** Entity TTLs from the schema's @cacheControl hints. */
  ttlOf(typeName: string, fieldName?: string): number;
}

/**
 * Puts entities a list query already read into the request's loader and the shared cache, so the
 * list's nodes cost no second query.
 */
export function primeCached<K, V>(
  loader: DataLoader<K, V | null, string>,
  spec: LoaderSpec<K, V>,
  runtime: LoaderRuntime,
  entries: readonly [K, V][],
  fillStartedAt: number,
): void {
  const writes: CacheWrite[] = [];
  for (const [key, value] of entries) {
    loader.prime(key, value);
    writes.push({
      key: runtime.keys.entityKey(spec.type, spec.idOf(key), spec.tenantOf?.(key)),
      value,
      ttlSeconds: spec.ttlSeconds,
    });
  }
  void runtime.cache.setMany(writes, fillStartedAt);
}
