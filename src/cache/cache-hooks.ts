// What the cache reports about itself. The cache calls these hooks and knows nothing of Prometheus; the
// composition root (src/server/app.ts) wires them to the metrics.
export type CacheLayer = 'l1' | 'redis' | 'db';

export interface CacheHooks {
  /** `count` lookups of `type` ended in `layer` with `result`. */
  lookups(layer: CacheLayer, type: string, result: 'hit' | 'miss', count: number): void;
  /** A per-request loader batch of `size` keys of `type`. */
  batch(type: string, size: number): void;
  /** Lookups of an organization's tenant-scoped keys: `hits` served from L1 or Redis, `misses` read. */
  tenantLookups(organizationId: string, hits: number, misses: number): void;
}

/** For caches nobody watches (tests that build one by hand). */
export const silentHooks: CacheHooks = {
  lookups: () => undefined,
  batch: () => undefined,
  tenantLookups: () => undefined,
};
