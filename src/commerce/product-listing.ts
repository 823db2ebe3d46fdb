// Product listings: keyset-paginated pages cached by filter + sort + page, and counts cached by filter.
// Both live in their own cache namespaces (ProductList, ProductCount) that every product write and every
// stock change purges. Search is PostgreSQL full-text search over the generated, GIN-indexed searchVector.
import { createListLoaders, type ListLoaders, type PageKey, type PageValue } from '../cache/list-loaders.ts';
import type { LoaderDeps } from '../cache/loader-factory.ts';
import { allOf, countEach, readPages, type PageQuery } from '../db/batched-queries.ts';
import type { Database } from '../db/prisma.ts';
import { Prisma, type Category, type Product } from '../generated/prisma/client.ts';
import { BadUserInputError } from '../infra/errors.ts';
import {
  decodeCursor,
  encodeCursor,
  isInt4,
  isStorableDate,
  parseIntId,
  parsePageSize,
  parseUuid,
} from '../graphql/arguments.ts';
import type { CommerceLoaders, CommerceSpecs } from './loaders.ts';

/** The tag every product list and count is filed under: any product write purges them all. */
export const PRODUCT_LISTS_TAG = 'Product';

export type ProductSort = 'NEWEST' | 'PRICE_ASC' | 'PRICE_DESC' | 'BEST_SELLING' | 'RELEVANCE';
type ColumnSort = Exclude<ProductSort, 'RELEVANCE'>;

/** The text search configuration of the generated searchVector column (see its migration). */
const SEARCH_CONFIG = Prisma.sql`'english'::regconfig`;

export interface ProductFilterInput {
  categoryId?: string | null;
  includeSubcategories?: boolean | null;
  minPrice?: { toString(): string } | null;
  maxPrice?: { toString(): string } | null;
  search?: string | null;
  sellerId?: string | null;
  inStock?: boolean | null;
}

/** A filter in canonical form: it is part of the cache key, so equal filters must serialise equally. */
interface NormalisedFilter {
  categoryIds?: number[];
  minPrice?: string;
  maxPrice?: string;
  search?: string;
  sellerId?: string;
  inStock?: true;
}

/** What Query.products and Category.products resolve to; ProductConnection's fields read it. */
export interface ProductPage extends PageValue<number> {
  sort: ProductSort;
  filter: NormalisedFilter;
}

interface SortSpec {
  field: 'createdAt' | 'price' | 'salesCount';
  direction: 'asc' | 'desc';
  cursorShape: readonly ('string' | 'number')[];
  cursorValue(product: Product): string | number;
  parseCursorValue(value: string | number): Date | string | number;
  /** The cursor value as a typed SQL parameter. */
  sqlValue(value: Date | string | number): Prisma.Sql;
}

const SORTS: Record<ColumnSort, SortSpec> = {
  NEWEST: {
    field: 'createdAt',
    direction: 'desc',
    cursorShape: ['string', 'number'],
    cursorValue: (p) => p.createdAt.toISOString(),
    parseCursorValue: (v) => {
      const date = new Date(String(v));
      if (!isStorableDate(date)) throw invalidCursor();
      return date;
    },
    sqlValue: (v) => Prisma.sql`${v}::timestamptz`,
  },
  PRICE_ASC: {
    field: 'price',
    direction: 'asc',
    cursorShape: ['string', 'number'],
    cursorValue: (p) => p.price.toString(),
    parseCursorValue: parsePriceCursor,
    sqlValue: priceSql,
  },
  PRICE_DESC: {
    field: 'price',
    direction: 'desc',
    cursorShape: ['string', 'number'],
    cursorValue: (p) => p.price.toString(),
    parseCursorValue: parsePriceCursor,
    sqlValue: priceSql,
  },
  BEST_SELLING: {
    field: 'salesCount',
    direction: 'desc',
    cursorShape: ['number', 'number'],
    cursorValue: (p) => p.salesCount,
    parseCursorValue: (v) => {
      if (!isInt4(v)) throw invalidCursor();
      return v;
    },
    sqlValue: (v) => Prisma.sql`${v}::int`,
  },
};

function invalidCursor(): BadUserInputError {
  return new BadUserInputError('after is not a valid cursor: pass endCursor from a previous page', 'after');
}

function priceSql(value: Date | string | number): Prisma.Sql {
  return Prisma.sql`${String(value)}::numeric`;
}

function parsePriceCursor(value: string | number): string {
  if (!/^\d{1,13}(\.\d{1,2})?$/.test(String(value))) throw invalidCursor();
  return String(value);
}

/** RELEVANCE cursors hold only the id: the rank is recomputed from that row (see relevanceKeysetSql). */
const RELEVANCE_CURSOR_SHAPE = ['number'] as const;

export function cursorOf(product: Product, sort: ProductSort): string {
  if (sort === 'RELEVANCE') return encodeCursor([product.id]);
  return encodeCursor([SORTS[sort].cursorValue(product), product.id]);
}

function searchQuery(search: string): Prisma.Sql {
  return Prisma.sql`websearch_to_tsquery(${SEARCH_CONFIG}, ${search})`;
}

function rankSql(row: string, search: string): Prisma.Sql {
  return Prisma.sql`ts_rank(${Prisma.raw(`${row}."searchVector"`)}, ${searchQuery(search)})`;
}

/**
 * Rows after the cursor's row in relevance order (rank descending, id ascending). The cursor's rank is
 * computed from its row by the same expression, so equal ranks compare equal (no float round trip).
 */
function relevanceKeysetSql(search: string, afterId: number): Prisma.Sql {
  const rank = rankSql('t', search);
  const cursorRank = Prisma.sql`(SELECT ${rankSql('c', search)} FROM "Product" c WHERE c."id" = ${afterId}::int)`;
  return Prisma.sql`(${rank} < ${cursorRank} OR (${rank} = ${cursorRank} AND t."id" > ${afterId}::int))`;
}

function filterSql(filter: NormalisedFilter): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.categoryIds) conditions.push(Prisma.sql`t."categoryId" IN (${Prisma.join(filter.categoryIds)})`);
  if (filter.minPrice !== undefined) conditions.push(Prisma.sql`t."price" >= ${filter.minPrice}::numeric`);
  if (filter.maxPrice !== undefined) conditions.push(Prisma.sql`t."price" <= ${filter.maxPrice}::numeric`);
  if (filter.search) conditions.push(Prisma.sql`t."searchVector" @@ ${searchQuery(filter.search)}`);
  if (filter.sellerId) conditions.push(Prisma.sql`t."organizationId" = ${filter.sellerId}::uuid`);
  if (filter.inStock)
    conditions.push(
      Prisma.sql`EXISTS (SELECT 1 FROM "Inventory" i WHERE i."productId" = t."id" AND i."onHand" - i."reserved" > 0)`,
    );
  return conditions;
}

/** Rows strictly after the cursor in the sort's order: (value, id) beyond (cursor value, cursor id). */
function keysetSql(sort: SortSpec, after: (string | number)[]): Prisma.Sql {
  const column = Prisma.raw(`t."${sort.field}"`);
  const beyond = Prisma.raw(sort.direction === 'asc' ? '>' : '<');
  const value = sort.sqlValue(sort.parseCursorValue(after[0]!));
  return Prisma.sql`(${column} ${beyond} ${value} OR (${column} = ${value} AND t."id" ${beyond} ${after[1]}::int))`;
}

function pageQuery(key: PageKey<NormalisedFilter>): PageQuery {
  const conditions = filterSql(key.filter);
  if (key.sort === 'RELEVANCE') {
    const search = key.filter.search ?? '';
    if (key.after) conditions.push(relevanceKeysetSql(search, Number(key.after[0])));
    return {
      where: allOf(conditions),
      orderBy: Prisma.sql`${rankSql('t', search)} DESC, t."id" ASC`,
      limit: key.first + 1,
    };
  }
  const sort = SORTS[key.sort as ColumnSort];
  if (key.after) conditions.push(keysetSql(sort, key.after));
  const direction = sort.direction === 'asc' ? 'ASC' : 'DESC';
  return {
    where: allOf(conditions),
    orderBy: Prisma.raw(`t."${sort.field}" ${direction}, t."id" ${direction}`),
    limit: key.first + 1,
  };
}

/** Throws BAD_USER_INPUT for a cursor that does not fit the sort, before anything is loaded. */
function checkCursor(sort: ProductSort, after: (string | number)[]): void {
  if (sort === 'RELEVANCE') {
    if (!isInt4(after[0]) || after[0] < 1) throw invalidCursor();
    return;
  }
  SORTS[sort].parseCursorValue(after[0]!);
  if (!isInt4(after[1]) || after[1] < 0) throw invalidCursor();
}

/** Subcategories are expanded here, once, so the page query is a plain `categoryId IN (...)`. */
function descendantsOf(rootId: number, tree: readonly Category[]): number[] {
  const ids = [rootId];
  for (let i = 0; i < ids.length; i += 1) for (const c of tree) if (c.parentId === ids[i]) ids.push(c.id);
  return ids.sort((a, b) => a - b);
}

export interface ListingLoaders {
  productPage: ListLoaders<NormalisedFilter, number>['page'];
  productCount: ListLoaders<NormalisedFilter, number>['count'];
}

export function createListingLoaders(
  db: Database,
  specs: CommerceSpecs,
  loaders: CommerceLoaders,
  deps: LoaderDeps,
): ListingLoaders {
  const { page, count } = createListLoaders<NormalisedFilter, Product, number>(
    {
      pageType: 'ProductList',
      countType: 'ProductCount',
      ttlSeconds: deps.ttlOf('Query', 'products'),
      tag: PRODUCT_LISTS_TAG,
      // The model's fields only: the generated search column is the database's business.
      readPages: (keys) =>
        readPages<Product>(db, 'Product', keys.map(pageQuery), Object.values(Prisma.ProductScalarFieldEnum)),
      countEach: (filters) =>
        countEach(
          db,
          'Product',
          filters.map((filter) => allOf(filterSql(filter))),
        ),
      entity: { loader: loaders.product, spec: specs.product, idOf: (p) => p.id },
    },
    deps,
  );
  return { productPage: page, productCount: count };
}

export async function listProducts(
  loaders: CommerceLoaders & ListingLoaders,
  args: { filter?: ProductFilterInput | null; sort?: ProductSort | null; first?: number | null; after?: string | null },
): Promise<ProductPage> {
  const sort = args.sort ?? 'NEWEST';
  const first = parsePageSize(args.first);
  const after = decodeCursor(args.after, sort === 'RELEVANCE' ? RELEVANCE_CURSOR_SHAPE : SORTS[sort].cursorShape);
  if (after) checkCursor(sort, after);
  const filter = await normaliseFilter(loaders, args.filter ?? {});
  if (sort === 'RELEVANCE' && !filter.search) throw new BadUserInputError('sort RELEVANCE needs filter.search', 'sort');
  const page = (await loaders.productPage.load({ filter, sort, first, ...(after && { after }) })) ?? {
    ids: [],
    hasNextPage: false,
  };
  return { ...page, sort, filter };
}

export async function countProducts(loaders: ListingLoaders, page: ProductPage): Promise<number> {
  return (await loaders.productCount.load(page.filter)) ?? 0;
}

async function normaliseFilter(loaders: CommerceLoaders, input: ProductFilterInput): Promise<NormalisedFilter> {
  const filter: NormalisedFilter = {};
  if (input.categoryId != null) {
    const categoryId = parseIntId(input.categoryId, 'filter.categoryId');
    filter.categoryIds =
      input.includeSubcategories === false
        ? [categoryId]
        : descendantsOf(categoryId, await loaders.categoryTree.load('all'));
  }
  if (input.minPrice != null) filter.minPrice = nonNegativePrice(input.minPrice.toString(), 'filter.minPrice');
  if (input.maxPrice != null) filter.maxPrice = nonNegativePrice(input.maxPrice.toString(), 'filter.maxPrice');
  if (
    filter.minPrice !== undefined &&
    filter.maxPrice !== undefined &&
    Number(filter.minPrice) > Number(filter.maxPrice)
  ) {
    throw new BadUserInputError('filter.minPrice must not be greater than filter.maxPrice', 'filter');
  }
  if (input.search != null) {
    // Canonical (it is part of the cache key); PostgreSQL text cannot hold NUL.
    const search = input.search.replaceAll('\u0000', '').trim().replace(/\s+/g, ' ').toLowerCase();
    if (search.length > 100)
      throw new BadUserInputError('filter.search must be at most 100 characters', 'filter.search');
    if (search) filter.search = search;
  }
  if (input.sellerId != null) filter.sellerId = parseUuid(input.sellerId, 'filter.sellerId');
  if (input.inStock) filter.inStock = true;
  return filter;
}

function nonNegativePrice(value: string, argumentName: string): string {
  if (value.startsWith('-')) throw new BadUserInputError(`${argumentName} must not be negative`, argumentName);
  return value;
}
