// The loader factory: for any entity type or relation edge, a per-request DataLoader whose batch
// function goes L1 -> Redis -> PostgreSQL and fills the layers above on the way back, so no resolver
// ever reads one row at a time (docs/ARCHITECTURE.md, "No N+1").
//
// Decisions:
// - DataLoader gives per-request batching and per-request memoisation; the EntityCache under it is
//   shared by all requests of the process (L1) and all instances (Redis).
// - What misses every layer goes through the spec's ReadCoalescer (read-coalescer.ts), the one place
//   where reads of different requests are merged.
import DataLoader from 'dataloader';
import type { CacheHooks } from './cache-hooks.ts';
import type { CacheWrite, EntityCache } from './entity-cache.ts';
import type { KeyBuilder } from './keys.ts';
import type { LoaderSpec } from './loader-spec.ts';
import { ReadCoalescer } from './read-coalescer.ts';
import { tenantTag } from './tag-generations.ts';

export type { LoaderSpec } from './loader-spec.ts';

/** Shared by every request of the process; created once in the composition root. */
export class LoaderRuntime {
  /** One coalescer per spec object, made on first use. */
  private readonly coalescers = new WeakMap<LoaderSpec<unknown, unknown>, ReadCoalescer>();

  constructor(
    readonly cache: EntityCache,
    readonly keys: KeyBuilder,
    readonly hooks: CacheHooks,
  ) {}

  coalescerOf(spec: LoaderSpec<unknown, unknown>): ReadCoalescer {
    let coalescer = this.coalescers.get(spec);
    if (!coalescer) {
      coalescer = new ReadCoalescer(spec, this.cache, this.hooks);
      this.coalescers.set(spec, coalescer);
    }
    return coalescer;
  }
}

export function createLoaderRuntime(parts: { cache: EntityCache; keys: KeyBuilder; hooks: CacheHooks }): LoaderRuntime {
  return new LoaderRuntime(parts.cache, parts.keys, parts.hooks);
}

/** Per-request counters, kept in the GraphQL context. */
export interface RequestStats {
  /** Reads the loaders sent to PostgreSQL for this request (batches that missed every cache layer). */
  loaderFetches: number;
  /** When the answer may be stored (response cache): every entity key and `tag:<name>` the loaders served. */
  touched?: Set<string>;
}

/** A per-request loader of an entity type: an id that does not exist loads as null. */
export function createCachedLoader<K, V>(
  spec: LoaderSpec<K, V>,
  runtime: LoaderRuntime,
  stats: RequestStats,
): DataLoader<K, V | null, string> {
  return cachedLoader(spec, null, runtime, stats);
}

/** A per-request loader of a relation edge: a key with nothing behind it loads as spec.missing ([]), never null. */
export function createRelationLoader<K, V>(
  spec: LoaderSpec<K, V> & { missing: V },
  runtime: LoaderRuntime,
  stats: RequestStats,
): DataLoader<K, V, string> {
  return cachedLoader(spec, spec.missing, runtime, stats);
}

function cachedLoader<K, V, M extends V | null>(
  spec: LoaderSpec<K, V>,
  missing: M,
  runtime: LoaderRuntime,
  stats: RequestStats,
): DataLoader<K, V | M, string> {
  const onFetch = (): void => void (stats.loaderFetches += 1);

  async function batch(keys: readonly K[]): Promise<(V | M)[]> {
    runtime.hooks.batch(spec.type, keys.length);
    const generation = spec.tags ? await runtime.cache.tagKeyPart(spec.tags) : undefined;
    const tenants = keys.map((key) => spec.tenantOf?.(key));
    const cacheKeys = await Promise.all(
      keys.map(async (key, index) => {
        const tenant = tenants[index];
        // A tenant's entries are also filed under the tenant's own tags, so one tenant can be purged alone.
        const filed =
          tenant !== undefined && spec.tags
            ? await runtime.cache.tagKeyPart([...spec.tags, ...spec.tags.map((tag) => tenantTag(tag, tenant))])
            : generation;
        return runtime.keys.entityKey(spec.type, spec.idOf(key), tenant, filed);
      }),
    );
    if (stats.touched) recordTouched(stats.touched, spec, cacheKeys);
    const cached = await runtime.cache.getMany(spec.type, cacheKeys, spec.ttlSeconds);
    const results: (V | M)[] = new Array(keys.length);
    const missed: number[] = [];
    cached.forEach((entry, index) => {
      if (entry === undefined) missed.push(index);
      else results[index] = (entry.value as V | null) ?? missing;
    });
    if (spec.tenantOf) reportTenantLookups(runtime.hooks, tenants, cached);
    if (missed.length === 0) return results;
    const read = await runtime.coalescerOf(spec).read(
      missed.map((i) => keys[i]!),
      missed.map((i) => cacheKeys[i]!),
      onFetch,
    );
    // Untyped through the shared layers, like the cache entries above: this spec's fetch produced them.
    for (const [position, index] of missed.entries()) results[index] = (read[position] as V | null) ?? missing;
    return results;
  }

  return new DataLoader<K, V | M, string>(batch, { cacheKeyFn: spec.idOf, maxBatchSize: 1000 });
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

/** Lists are known by their tags (their keys change with every generation), entities by their keys. */
function recordTouched(touched: Set<string>, spec: { tags?: readonly string[] }, cacheKeys: readonly string[]): void {
  if (spec.tags) for (const tag of spec.tags) touched.add(`tag:${tag}`);
  else for (const key of cacheKeys) touched.add(key);
}

/** Per organization, how many of the batch's tenant-scoped keys the cache served and how many it missed. */
function reportTenantLookups(
  hooks: CacheHooks,
  tenants: readonly (string | undefined)[],
  cached: readonly unknown[],
): void {
  const counts = new Map<string, { hits: number; misses: number }>();
  tenants.forEach((tenant, index) => {
    if (tenant === undefined) return;
    let count = counts.get(tenant);
    if (!count) counts.set(tenant, (count = { hits: 0, misses: 0 }));
    if (cached[index] === undefined) count.misses += 1;
    else count.hits += 1;
  });
  for (const [tenant, { hits, misses }] of counts) hooks.tenantLookups(tenant, hits, misses);
}
