// What a domain declares for each cached type or relation edge; the loader factory does the rest.
export interface LoaderSpec<K, V> {
  /** Names the key namespace and the metrics label: 'Product', or 'Category.products' for an edge. */
  type: string;
  /** From the schema's @cacheControl hints (ttl-policy.ts). */
  ttlSeconds: number;
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
