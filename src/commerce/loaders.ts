// Loaders of the storefront's entities and relation edges. Each fetch is exactly one SQL query for
// the whole batch; caching, batching and coalescing come from the loader factory.
import type DataLoader from 'dataloader';
import { createCachedLoader, createRelationLoader, type LoaderDeps, type LoaderSpec } from '../cache/loader-factory.ts';
import type { Database } from '../db/prisma.ts';
import { byId } from '../db/rows.ts';
import type { Category, Inventory, MemberPrice, MemberTier, Product } from '../generated/prisma/client.ts';

export interface PriceKey {
  productId: number;
  tier: Exclude<MemberTier, 'REGULAR'>;
}

export function commerceSpecs(db: Database, ttlOf: LoaderDeps['ttlOf']) {
  return {
    product: {
      type: 'Product',
      ttlSeconds: ttlOf('Product'),
      idOf: String,
      missing: null,
      fetch: async (ids) => byId(await db.product.findMany({ where: { id: { in: [...ids] } } }), (p) => p.id),
    } satisfies LoaderSpec<number, Product>,
    category: {
      type: 'Category',
      ttlSeconds: ttlOf('Category'),
      idOf: String,
      missing: null,
      fetch: async (ids) => byId(await db.category.findMany({ where: { id: { in: [...ids] } } }), (c) => c.id),
    } satisfies LoaderSpec<number, Category>,
    /** The whole category tree (a few dozen rows): roots, children and subcategory expansion use it. */
    categoryTree: {
      type: 'CategoryTree',
      ttlSeconds: ttlOf('Query', 'categories'),
      idOf: () => 'all',
      missing: [],
      fetch: async () =>
        new Map([['all', await db.category.findMany({ orderBy: [{ position: 'asc' }, { id: 'asc' }] })]]),
    } satisfies LoaderSpec<'all', Category[]>,
    inventory: {
      type: 'Inventory',
      ttlSeconds: ttlOf('Inventory'),
      idOf: String,
      missing: null,
      fetch: async (ids) =>
        byId(await db.inventory.findMany({ where: { productId: { in: [...ids] } } }), (i) => i.productId),
    } satisfies LoaderSpec<number, Inventory>,
    memberPrice: {
      type: 'MemberPrice',
      ttlSeconds: ttlOf('ProductPrice'),
      idOf: (key) => `${key.productId}.${key.tier}`,
      missing: null,
      fetch: async (keys) => {
        const rows = await db.memberPrice.findMany({
          where: {
            productId: { in: [...new Set(keys.map((k) => k.productId))] },
            tier: { in: [...new Set(keys.map((k) => k.tier))] },
          },
        });
        return byId(rows, (row) => `${row.productId}.${row.tier}`);
      },
    } satisfies LoaderSpec<PriceKey, MemberPrice>,
  };
}

export type CommerceSpecs = ReturnType<typeof commerceSpecs>;

export interface CommerceLoaders {
  product: DataLoader<number, Product | null, string>;
  category: DataLoader<number, Category | null, string>;
  categoryTree: DataLoader<'all', Category[], string>;
  inventory: DataLoader<number, Inventory | null, string>;
  memberPrice: DataLoader<PriceKey, MemberPrice | null, string>;
}

export function createCommerceLoaders(specs: CommerceSpecs, deps: LoaderDeps): CommerceLoaders {
  return {
    product: createCachedLoader(specs.product, deps.runtime, deps.stats),
    category: createCachedLoader(specs.category, deps.runtime, deps.stats),
    categoryTree: createRelationLoader(specs.categoryTree, deps.runtime, deps.stats),
    inventory: createCachedLoader(specs.inventory, deps.runtime, deps.stats),
    memberPrice: createCachedLoader(specs.memberPrice, deps.runtime, deps.stats),
  };
}
