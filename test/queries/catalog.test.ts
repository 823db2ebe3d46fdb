// The storefront queries answer from the seeded PostgreSQL: product, products (a keyset cursor
// connection), categories and category. Expected values come from SQL against the same database.
import { describe, expect, it } from 'vitest';
import { DECIMAL_STRING, useSharedGateway, useSql } from './helpers.ts';
import { dataOf, signIn } from '../support/kit.ts';

const gateway = useSharedGateway();
const sql = useSql();

type Sort = 'NEWEST' | 'PRICE_ASC' | 'PRICE_DESC' | 'BEST_SELLING';

/** The ORDER BY the gateway promises for each sort: the sort key, ties broken by id in the same direction. */
const ORDER_BY: Record<Sort, string> = {
  NEWEST: 'p."createdAt" DESC, p.id DESC',
  PRICE_ASC: 'p.price ASC, p.id ASC',
  PRICE_DESC: 'p.price DESC, p.id DESC',
  BEST_SELLING: 'p."salesCount" DESC, p.id DESC',
};

/** Ids of a category and all its descendants. */
const SUBTREE_CTE = `WITH RECURSIVE subtree AS (
  SELECT id FROM "Category" WHERE id = $1
  UNION ALL SELECT c.id FROM "Category" c JOIN subtree s ON c."parentId" = s.id)`;

interface ProductListData {
  products: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { cursor: string; node: { id: string; basePrice: string } }[];
    nodes: { id: string }[];
  };
}

const PRODUCT_LIST = /* GraphQL */ `
  query ProductList($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {
    products(filter: $filter, sort: $sort, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id basePrice } }
      nodes { id }
    }
  }
`;

/** A root category with subcategories and the most products in its subtree (several pages of 8). */
async function busiestRootCategory(): Promise<{ id: number; productCount: number }> {
  const rows = await sql<{ id: number; n: number }>(`
    WITH RECURSIVE t AS (
      SELECT id AS root, id FROM "Category" WHERE "parentId" IS NULL
      UNION ALL SELECT t.root, c.id FROM "Category" c JOIN t ON c."parentId" = t.id)
    SELECT t.root AS id, count(p.id)::int AS n FROM t JOIN "Product" p ON p."categoryId" = t.id
    GROUP BY t.root ORDER BY n DESC, t.root LIMIT 1`);
  const row = rows[0];
  if (!row) throw new Error('the seed has no categorised products');
  return { id: row.id, productCount: row.n };
}

describe('product(id)', () => {
  it('returns the product with its category, inventory, base price and, to a GOLD member, the GOLD price', async () => {
    const [expected] = await sql<{
      id: number;
      sku: string;
      name: string;
      price: string;
      categoryId: number;
      categoryName: string;
      onHand: number;
      reserved: number;
      gold: string;
    }>(`
      SELECT p.id, p.sku, p.name, p.price::text AS price, c.id AS "categoryId", c.name AS "categoryName",
             i."onHand", i.reserved, mp.price::text AS gold
      FROM "Product" p
      JOIN "Category" c ON c.id = p."categoryId"
      JOIN "Inventory" i ON i."productId" = p.id
      JOIN "MemberPrice" mp ON mp."productId" = p.id AND mp.tier = 'GOLD'
      ORDER BY p.id LIMIT 1`);
    if (!expected) throw new Error('the seed has no product with inventory and a GOLD price');
    const goldMember = await signIn(gateway().url, 'customer3@cachegate.test'); // tiers cycle from REGULAR

    const data = dataOf(
      await gateway().query<{
        product: {
          id: string;
          sku: string;
          name: string;
          basePrice: string;
          price: { tier: string; amount: string; currency: string; isMemberPrice: boolean };
          regular: { amount: string; isMemberPrice: boolean };
          category: { id: string; name: string };
          inventory: {
            productId: string;
            onHand: number;
            reserved: number;
            available: number;
            inStock: boolean;
          } | null;
        } | null;
      }>(
        `query ($id: ID!) {
          product(id: $id) {
            id sku name basePrice
            price { tier amount currency isMemberPrice }
            regular: price(tier: REGULAR) { amount isMemberPrice }
            category { id name }
            inventory { productId onHand reserved available inStock }
          }
        }`,
        { id: String(expected.id) },
        goldMember.headers,
      ),
    );
    const product = data.product;
    expect(product).toMatchObject({
      id: String(expected.id),
      sku: expected.sku,
      name: expected.name,
      basePrice: expected.price,
    });
    expect(product?.basePrice).toMatch(DECIMAL_STRING);
    expect(product?.price).toEqual({ tier: 'GOLD', amount: expected.gold, currency: 'MYR', isMemberPrice: true });
    expect(product?.price.amount).toMatch(DECIMAL_STRING);
    expect(product?.regular).toEqual({ amount: expected.price, isMemberPrice: false });
    expect(product?.category).toEqual({ id: String(expected.categoryId), name: expected.categoryName });
    expect(product?.inventory).toEqual({
      productId: String(expected.id),
      onHand: expected.onHand,
      reserved: expected.reserved,
      available: expected.onHand - expected.reserved,
      inStock: expected.onHand - expected.reserved > 0,
    });
  });
});

describe('products(first, sort, filter)', () => {
  it('totalCount equals a COUNT in SQL, with and without filters', async () => {
    const root = await busiestRootCategory();
    const [all] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM "Product"');
    const [ranged] = await sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM "Product" WHERE price BETWEEN 50 AND 500',
    );
    const [onlyRoot] = await sql<{ n: number }>('SELECT count(*)::int AS n FROM "Product" WHERE "categoryId" = $1', [
      root.id,
    ]);
    const cases: [filter: Record<string, unknown> | null, expected: number | undefined][] = [
      [null, all?.n],
      [{ categoryId: String(root.id) }, root.productCount],
      [{ categoryId: String(root.id), includeSubcategories: false }, onlyRoot?.n],
      [{ minPrice: '50', maxPrice: '500.00' }, ranged?.n],
    ];
    for (const [filter, expected] of cases) {
      const data = dataOf(await gateway().query<ProductListData>(PRODUCT_LIST, { filter, first: 5 }));
      expect(data.products.totalCount, JSON.stringify(filter)).toBe(expected);
    }
    expect(all?.n).toBe(300);
  });

  it('a case-insensitive search counts what a full-text match on searchVector counts', async () => {
    const [sample] = await sql<{ word: string }>(
      `SELECT split_part(name, ' ', 1) AS word FROM "Product" ORDER BY id LIMIT 1`,
    );
    const word = sample?.word ?? '';
    const [expected] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Product" WHERE "searchVector" @@ websearch_to_tsquery('english', lower($1))`,
      [word],
    );
    const data = dataOf(
      await gateway().query<ProductListData>(PRODUCT_LIST, { filter: { search: word.toUpperCase() }, first: 100 }),
    );
    expect(data.products.totalCount).toBe(expected?.n);
    expect(data.products.nodes.length).toBe(Math.min(100, expected?.n ?? 0));
  });

  for (const sort of ['NEWEST', 'PRICE_ASC', 'PRICE_DESC', 'BEST_SELLING'] as const) {
    it(
      `paginates a category with ${sort} through every page with endCursor: no duplicates, no gaps, SQL ` + `order`,
      async () => {
        const root = await busiestRootCategory();
        const expectedIds = (
          await sql<{ id: number }>(
            `${SUBTREE_CTE} SELECT p.id FROM "Product" p WHERE p."categoryId" IN (SELECT id FROM subtree) ORDER BY ` +
              `${ORDER_BY[sort]}`,
            [root.id],
          )
        ).map((r) => String(r.id));
        expect(expectedIds.length).toBeGreaterThan(16); // at least three pages of 8

        const seen: string[] = [];
        let after: string | null = null;
        for (let page = 0; page < 50; page += 1) {
          const data: ProductListData = dataOf(
            await gateway().query<ProductListData>(PRODUCT_LIST, {
              filter: { categoryId: String(root.id) },
              sort,
              first: 8,
              after,
            }),
          );
          const { edges, nodes, pageInfo, totalCount } = data.products;
          expect(totalCount).toBe(expectedIds.length);
          expect(nodes.map((n) => n.id)).toEqual(edges.map((e) => e.node.id));
          expect(edges.length).toBeLessThanOrEqual(8);
          seen.push(...nodes.map((n) => n.id));
          expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
          if (!pageInfo.hasNextPage) break;
          expect(edges).toHaveLength(8);
          after = pageInfo.endCursor;
        }
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen).toEqual(expectedIds);
      },
    );
  }

  it('PRICE_ASC really ascends and PRICE_DESC really descends (compared as decimals)', async () => {
    const asc = dataOf(
      await gateway().query<ProductListData>(PRODUCT_LIST, { sort: 'PRICE_ASC', first: 100 }),
    ).products.edges.map((e) => e.node.basePrice);
    const desc = dataOf(
      await gateway().query<ProductListData>(PRODUCT_LIST, { sort: 'PRICE_DESC', first: 100 }),
    ).products.edges.map((e) => e.node.basePrice);
    const cents = (amount: string): number => Math.round(Number(amount) * 100);
    expect(asc).toHaveLength(100);
    for (let i = 1; i < asc.length; i += 1) expect(cents(asc[i]!)).toBeGreaterThanOrEqual(cents(asc[i - 1]!));
    for (let i = 1; i < desc.length; i += 1) expect(cents(desc[i]!)).toBeLessThanOrEqual(cents(desc[i - 1]!));
    // (Not `AS price`: ORDER BY would then sort the text alias.)
    const [cheapest] = await sql<{ amount: string }>(
      'SELECT price::text AS amount FROM "Product" ORDER BY price, id LIMIT 1',
    );
    const [dearest] = await sql<{ amount: string }>(
      'SELECT price::text AS amount FROM "Product" ORDER BY price DESC, id DESC LIMIT 1',
    );
    expect(asc[0]).toBe(cheapest?.amount);
    expect(desc[0]).toBe(dearest?.amount);
  });

  it('a price range returns only products inside it', async () => {
    const data = dataOf(
      await gateway().query<ProductListData>(PRODUCT_LIST, {
        filter: { minPrice: '100', maxPrice: '300' },
        sort: 'PRICE_ASC',
        first: 100,
      }),
    );
    expect(data.products.nodes.length).toBeGreaterThan(0);
    for (const edge of data.products.edges) {
      expect(Number(edge.node.basePrice)).toBeGreaterThanOrEqual(100);
      expect(Number(edge.node.basePrice)).toBeLessThanOrEqual(300);
    }
  });
});

describe('categories and category(id)', () => {
  interface Node {
    id: string;
    slug: string;
    name: string;
    parent: { id: string } | null;
    children: { id: string; name: string; parent: { id: string } | null }[];
  }

  it('categories returns the roots of the tree, each with its children as in PostgreSQL', async () => {
    const rows = await sql<{ id: number; slug: string; name: string; parentId: number | null }>(
      'SELECT id, slug, name, "parentId" FROM "Category"',
    );
    const data = dataOf(
      await gateway().query<{ categories: Node[] }>(
        '{ categories { id slug name parent { id } children { id name parent { id } } } }',
      ),
    );
    const roots = rows.filter((r) => r.parentId === null);
    expect(data.categories.map((c) => c.id).sort()).toEqual(roots.map((r) => String(r.id)).sort());
    for (const root of data.categories) {
      const row = rows.find((r) => String(r.id) === root.id);
      expect(root).toMatchObject({ slug: row?.slug, name: row?.name, parent: null });
      const expectedChildren = rows
        .filter((r) => String(r.parentId) === root.id)
        .map((r) => String(r.id))
        .sort();
      expect(root.children.map((c) => c.id).sort()).toEqual(expectedChildren);
      for (const child of root.children) expect(child.parent).toEqual({ id: root.id });
    }
    expect(data.categories.some((c) => c.children.length > 0)).toBe(true);
  });

  it('category(id) returns a subcategory with its parent', async () => {
    const [child] = await sql<{ id: number; slug: string; name: string; parentId: number; parentName: string }>(`
      SELECT c.id, c.slug, c.name, c."parentId", p.name AS "parentName"
      FROM "Category" c JOIN "Category" p ON p.id = c."parentId" ORDER BY c.id LIMIT 1`);
    if (!child) throw new Error('the seed has no subcategory');
    const data = dataOf(
      await gateway().query<{
        category: { id: string; slug: string; name: string; parent: { id: string; name: string } | null } | null;
      }>('query ($id: ID!) { category(id: $id) { id slug name parent { id name } } }', { id: String(child.id) }),
    );
    expect(data.category).toEqual({
      id: String(child.id),
      slug: child.slug,
      name: child.name,
      parent: { id: String(child.parentId), name: child.parentName },
    });
  });

  it('Category.products lists the same products as products(filter: { categoryId })', async () => {
    const root = await busiestRootCategory();
    const viaCategory = dataOf(
      await gateway().query<{ category: { products: { totalCount: number; nodes: { id: string }[] } } }>(
        'query ($id: ID!) { category(id: $id) { products(first: 10, sort: PRICE_ASC) { totalCount nodes { id } } } }',
        { id: String(root.id) },
      ),
    );
    const viaFilter = dataOf(
      await gateway().query<ProductListData>(PRODUCT_LIST, {
        filter: { categoryId: String(root.id) },
        sort: 'PRICE_ASC',
        first: 10,
      }),
    );
    expect(viaCategory.category.products.totalCount).toBe(root.productCount);
    expect(viaCategory.category.products.nodes).toEqual(viaFilter.products.nodes);
  });
});
