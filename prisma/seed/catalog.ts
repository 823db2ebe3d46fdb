// The storefront catalog: a two-level category tree, products in the leaf categories, and for every
// product its inventory and member-tier prices.
import type pg from 'pg';
import { bulkInsert, resetSerial } from './bulk.ts';
import { CATALOG, SELLING_POINTS, SHIPS_FROM, type LeafSpec, type RootSpec } from './catalog-data.ts';
import { rngFor, type Rng } from './random.ts';
import { DAY_MS, seedTime } from './time.ts';
import type { SeedScale } from './types.ts';

export const PRODUCT_COUNT: Readonly<Record<SeedScale, number>> = { full: 10_000, small: 300 };

/** Member discounts off the base (REGULAR) price, in percent of it. */
const MEMBER_PRICE_PERCENT = { SILVER: 95, GOLD: 90, PLATINUM: 85 } as const;
type MemberTierName = keyof typeof MEMBER_PRICE_PERCENT;

const MIN_PRICE_CENTS = 100; // RM 1.00
const MAX_PRICE_CENTS = 500_000; // RM 5,000.00
const ORGANIZATION_PRODUCT_SHARE = 0.1;
/** Products are created over the first 330 days of 2026, so "newest first" listings have a real spread. */
const PRODUCT_CREATION_WINDOW_S = (330 * DAY_MS) / 1000;

export interface CategoryRow {
  id: number;
  slug: string;
  name: string;
  parentId: number | null;
  position: number;
  createdAt: string;
  updatedAt: string;
}

export interface ProductRow {
  id: number;
  sku: string;
  name: string;
  description: string;
  price: string;
  categoryId: number;
  organizationId: string | null;
  salesCount: number;
  viewCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface InventoryRow {
  productId: number;
  onHand: number;
  reserved: number;
  version: number;
  updatedAt: string;
}

export interface MemberPriceRow {
  productId: number;
  tier: MemberTierName;
  price: string;
  updatedAt: string;
}

export interface CatalogPlan {
  categories: CategoryRow[];
  products: ProductRow[];
  inventory: InventoryRow[];
  memberPrices: MemberPriceRow[];
}

interface Leaf {
  id: number;
  root: RootSpec;
  spec: LeafSpec;
}

function formatCents(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}

/** Roots get ids 1..10 and leaves follow, so the tree reads top-down by id. */
function planCategories(): { categories: CategoryRow[]; leaves: Leaf[] } {
  const createdAt = seedTime(0);
  const categories: CategoryRow[] = CATALOG.map((root, position) => ({
    id: position + 1,
    slug: root.slug,
    name: root.name,
    parentId: null,
    position,
    createdAt,
    updatedAt: createdAt,
  }));
  const leaves: Leaf[] = [];
  CATALOG.forEach((root, rootIndex) => {
    root.leaves.forEach((spec, position) => {
      const id = categories.length + 1;
      categories.push({
        id,
        slug: spec.slug,
        name: spec.name,
        parentId: rootIndex + 1,
        position,
        createdAt,
        updatedAt: createdAt,
      });
      leaves.push({ id, root, spec });
    });
  });
  assertUniqueSlugs(categories);
  return { categories, leaves };
}

function assertUniqueSlugs(categories: readonly CategoryRow[]): void {
  const seen = new Set<string>();
  for (const { slug } of categories) {
    if (seen.has(slug)) throw new Error(`duplicate category slug in catalog data: ${slug}`);
    seen.add(slug);
  }
}

/** Log-uniform inside the leaf's range (cheap items are common), with shop-style endings above RM 20. */
function priceCents(rng: Rng, [min, max]: readonly [number, number]): number {
  const value = Math.exp(Math.log(min) + rng.next() * (Math.log(max) - Math.log(min)));
  const cents = value < 20 ? Math.round(value * 100) : Math.floor(value) * 100 + rng.pick([0, 0, 50, 90, 99]);
  return Math.min(MAX_PRICE_CENTS, Math.max(MIN_PRICE_CENTS, cents));
}

function productName(rng: Rng, leaf: Leaf): string {
  const base = `${rng.pick(leaf.root.brands)} ${rng.pick(leaf.spec.items)}`;
  return rng.chance(0.85) ? `${base} - ${rng.pick(leaf.spec.variants ?? leaf.root.variants)}` : base;
}

function productDescription(rng: Rng, name: string, leaf: Leaf): string {
  const shipping = `Ships from ${rng.pick(SHIPS_FROM)} within ${rng.int(1, 5)} working days.`;
  return `${name}. ${leaf.root.blurb} ${rng.pick(SELLING_POINTS)} ${shipping}`;
}

function planProduct(rng: Rng, id: number, leaf: Leaf, organizationIds: readonly string[]): ProductRow {
  const name = productName(rng, leaf);
  const salesCount = Math.floor(rng.next() ** 3 * 5_000); // a few best sellers, a long tail
  const createdAt = seedTime(rng.int(0, PRODUCT_CREATION_WINDOW_S) * 1000);
  return {
    id,
    sku: `SKU-${String(id).padStart(6, '0')}`,
    name,
    description: productDescription(rng, name, leaf),
    price: formatCents(priceCents(rng, leaf.spec.price)),
    categoryId: leaf.id,
    organizationId: rng.chance(ORGANIZATION_PRODUCT_SHARE) ? rng.pick(organizationIds) : null,
    salesCount,
    viewCount: salesCount * rng.int(3, 30) + rng.int(0, 2_000),
    createdAt,
    updatedAt: createdAt,
  };
}

/** Mostly in stock; a few sold out; a few with units reserved by open carts. */
function planInventory(rng: Rng, product: ProductRow): InventoryRow {
  const onHand = rng.chance(0.06) ? 0 : rng.int(1, 500);
  const reserved = onHand > 0 && rng.chance(0.15) ? rng.int(1, Math.min(onHand, 20)) : 0;
  return { productId: product.id, onHand, reserved, version: 0, updatedAt: product.createdAt };
}

function planMemberPrices(product: ProductRow): MemberPriceRow[] {
  const baseCents = Math.round(Number(product.price) * 100);
  return (Object.keys(MEMBER_PRICE_PERCENT) as MemberTierName[]).map((tier) => ({
    productId: product.id,
    tier,
    price: formatCents(Math.round((baseCents * MEMBER_PRICE_PERCENT[tier]) / 100)),
    updatedAt: product.createdAt,
  }));
}

export function planCatalog(scale: SeedScale, organizationIds: readonly string[]): CatalogPlan {
  const { categories, leaves } = planCategories();
  const productRng = rngFor('catalog.products');
  const inventoryRng = rngFor('catalog.inventory');
  const products: ProductRow[] = [];
  for (let id = 1; id <= PRODUCT_COUNT[scale]; id++) {
    // The first products visit every leaf once, so even the small scale has no empty category.
    const leaf = leaves[id - 1] ?? productRng.pick(leaves);
    products.push(planProduct(productRng, id, leaf, organizationIds));
  }
  return {
    categories,
    products,
    inventory: products.map((p) => planInventory(inventoryRng, p)),
    memberPrices: products.flatMap(planMemberPrices),
  };
}

export async function insertCatalog(client: pg.ClientBase, plan: CatalogPlan): Promise<void> {
  await bulkInsert(
    client,
    'Category',
    {
      id: 'int',
      slug: 'text',
      name: 'text',
      parentId: 'int',
      position: 'int',
      createdAt: 'timestamptz',
      updatedAt: 'timestamptz',
    },
    plan.categories,
  );
  await bulkInsert(
    client,
    'Product',
    {
      id: 'int',
      sku: 'text',
      name: 'text',
      description: 'text',
      price: 'numeric',
      categoryId: 'int',
      organizationId: 'uuid',
      salesCount: 'int',
      viewCount: 'int',
      createdAt: 'timestamptz',
      updatedAt: 'timestamptz',
    },
    plan.products,
  );
  await bulkInsert(
    client,
    'Inventory',
    { productId: 'int', onHand: 'int', reserved: 'int', version: 'int', updatedAt: 'timestamptz' },
    plan.inventory,
  );
  await bulkInsert(
    client,
    'MemberPrice',
    { productId: 'int', tier: '"MemberTier"', price: 'numeric', updatedAt: 'timestamptz' },
    plan.memberPrices,
  );
  await resetSerial(client, 'Category');
  await resetSerial(client, 'Product');
}
