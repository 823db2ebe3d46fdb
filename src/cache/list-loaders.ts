// Cached list pages and counts, for any entity: a page is the ids of one keyset page (filter + sort +
// size + cursor), a count is the total for a filter. Both are filed under a tag that every write of
// the entity purges, so no list or count outlives a write. The page query
// reads whole rows and primes the entity loader and cache with them, so the nodes cost no second query.
import type DataLoader from 'dataloader';
import { createCachedLoader, primeCached, type LoaderDeps, type LoaderSpec } from './loader-factory.ts';

export interface PageKey<F> {
  filter: F;
  sort?: string;
  first: number;
  after?: (string | number)[];
}

export interface PageValue<Id> {
  ids: Id[];
  hasNextPage: boolean;
}

export interface ListSpec<F, Row, Id> {
  /** Cache types of the pages and the counts, e.g. ProductList / ProductCount. */
  pageType: string;
  countType: string;
  ttlSeconds: number;
  tag: string;
  /** Tenant-scoped lists put the tenant in their keys. */
  tenantOf?(filter: F): string | undefined;
  /**
   * One SQL statement for every page of the batch: each page's rows in order, `first + 1` of them to
   * learn whether another page follows (src/db/batched-queries.ts).
   */
  readPages(keys: readonly PageKey<F>[]): Promise<Row[][]>;
  /** One SQL statement for every count of the batch. */
  countEach(filters: readonly F[]): Promise<number[]>;
  /** The entity loader and spec the rows prime. */
  entity: { loader: DataLoader<Id, Row | null, string>; spec: LoaderSpec<Id, Row>; idOf(row: Row): Id };
}

export interface ListLoaders<F, Id> {
  page: DataLoader<PageKey<F>, PageValue<Id> | null, string>;
  count: DataLoader<F, number | null, string>;
}

export function createListLoaders<F, Row, Id>(spec: ListSpec<F, Row, Id>, deps: LoaderDeps): ListLoaders<F, Id> {
  const { runtime } = deps;
  const pageSpec: LoaderSpec<PageKey<F>, PageValue<Id>> = {
    type: spec.pageType,
    ttlSeconds: spec.ttlSeconds,
    idOf: (key) => JSON.stringify(key),
    ...(spec.tenantOf && { tenantOf: (key: PageKey<F>) => spec.tenantOf!(key.filter) }),
    missing: null,
    tags: [spec.tag],
    fetch: async (keys) => {
      const started = runtime.cache.fillStarted();
      const rowsByPage = await spec.readPages(keys);
      const pages = new Map<string, PageValue<Id>>();
      keys.forEach((key, index) => {
        const rows = rowsByPage[index] ?? [];
        const page = rows.slice(0, key.first);
        primeCached(
          spec.entity.loader,
          spec.entity.spec,
          runtime,
          page.map((row) => [spec.entity.idOf(row), row] as [Id, Row]),
          started,
        );
        pages.set(JSON.stringify(key), { ids: page.map(spec.entity.idOf), hasNextPage: rows.length > key.first });
      });
      return pages;
    },
  };
  const countSpec: LoaderSpec<F, number> = {
    type: spec.countType,
    ttlSeconds: spec.ttlSeconds,
    idOf: (filter) => JSON.stringify(filter),
    ...(spec.tenantOf && { tenantOf: spec.tenantOf }),
    missing: null,
    tags: [spec.tag],
    fetch: async (filters) => {
      const counts = await spec.countEach(filters);
      return new Map(filters.map((filter, index) => [JSON.stringify(filter), counts[index]!]));
    },
  };
  return {
    page: createCachedLoader(pageSpec, runtime, deps.stats),
    count: createCachedLoader(countSpec, runtime, deps.stats),
  };
}
