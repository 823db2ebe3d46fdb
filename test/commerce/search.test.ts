// Full-text search: the gateway returns exactly the rows, in the order, that a direct SQL full-text
// query returns (RELEVANCE through every page), filters by price range and stock, and the GIN index
// serves the match. Listings and counts stay cached and are purged exactly when stock changes.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { EMAILS } from '../accounts/kit.ts';
import { signIn } from '../support/kit.ts';
import { codesOf, dataOf, gql, sqlRows, withPg } from './kit.ts';

let database: TestDatabase;
let gateway: TestGateway;

const SEARCH = `query ($filter: ProductFilter, $sort: ProductSort, $first: Int, $after: String) {
  products(filter: $filter, sort: $sort, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id }
  }
}`;

interface SearchPage {
  products: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    nodes: { id: string }[];
  };
}

const MATCH = `"searchVector" @@ websearch_to_tsquery('english', $1)`;
const RANK = `ts_rank("searchVector", websearch_to_tsquery('english', $1))`;

async function sqlIds(search: string, extra = ''): Promise<string[]> {
  const rows = await sqlRows<{ id: number }>(
    database.url,
    `SELECT p.id FROM "Product" p WHERE ${MATCH} ${extra} ORDER BY ${RANK} DESC, p.id ASC`,
    [search],
  );
  return rows.map((r) => String(r.id));
}

/** Every page of a RELEVANCE search, following endCursor. */
async function allPages(filter: Record<string, unknown>, first: number): Promise<{ ids: string[]; total: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  let total = -1;
  for (let guard = 0; guard < 100; guard += 1) {
    const page: SearchPage = dataOf(
      await gql<SearchPage>(gateway.url, SEARCH, { filter, sort: 'RELEVANCE', first, after }),
    );
    total = page.products.totalCount;
    ids.push(...page.products.nodes.map((n) => n.id));
    if (!page.products.pageInfo.hasNextPage) break;
    after = page.products.pageInfo.endCursor;
  }
  return { ids, total };
}

/** Words of product names, most frequent first. */
let words: string[];

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gateway = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl') });
  const names = await sqlRows<{ name: string }>(database.url, 'SELECT name FROM "Product"');
  const counts = new Map<string, number>();
  for (const { name } of names)
    for (const word of name.toLowerCase().match(/[a-z]{4,}/g) ?? []) counts.set(word, (counts.get(word) ?? 0) + 1);
  words = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).map(([word]) => word);
  if (words.length < 40) throw new Error('the seed has too few distinct words in product names');
});

afterAll(async () => {
  await gateway?.stop();
  await database?.drop();
});

describe('products(filter: { search }, sort: RELEVANCE)', () => {
  it('returns what a direct SQL full-text query returns, in rank order, through every page', async () => {
    const searches = [
      words[5]!,
      words[20]!,
      `${words[3]} ${words[12]}`,
      `${words[1]} -${words[2]}`,
      `${words[8]} or ${words[30]}`,
    ];
    for (const search of searches) {
      const expected = await sqlIds(search);
      expect(expected.length, search).toBeGreaterThan(0);
      const { ids, total } = await allPages({ search }, 7);
      expect(ids, search).toEqual(expected);
      expect(total, search).toBe(expected.length);
    }
  });

  it('combines the search with a price range and the in-stock filter', async () => {
    const search = words[0]!;
    const extra = `AND p.price BETWEEN 20 AND 400
      AND EXISTS (SELECT 1 FROM "Inventory" i WHERE i."productId" = p.id AND i."onHand" - i.reserved > 0)`;
    const expected = await sqlIds(search, extra);
    const { ids, total } = await allPages({ search, minPrice: '20', maxPrice: '400', inStock: true }, 50);
    expect(ids).toEqual(expected);
    expect(total).toBe(expected.length);
  });

  it('uses the GIN index on searchVector (EXPLAIN)', async () => {
    const plan = await withPg(database.url, async (client) => {
      await client.query('ANALYZE "Product"');
      // 300 seeded rows fit in a few pages, where a sequential scan is cheaper: forbid it, so the plan
      // shows which index the match can use.
      await client.query('SET enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT count(*) FROM "Product" t WHERE t.${MATCH}`,
        [words[0]],
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('Bitmap Index Scan on "Product_searchVector_idx"');
  });

  it('keeps counts cached, and purges them when stock changes', async () => {
    const search = words[4]!;
    const filter = { search, inStock: true };
    const before = dataOf(await gql<SearchPage>(gateway.url, SEARCH, { filter, first: 5 })).products;
    gateway.sql.length = 0;
    expect(dataOf(await gql<SearchPage>(gateway.url, SEARCH, { filter, first: 5 })).products).toEqual(before);
    expect(gateway.sql).toEqual([]);
    const admin = (await signIn(gateway.url, EMAILS.platform)).headers;
    const id = before.nodes[0]!.id;
    dataOf(await gql(gateway.url, `mutation { setStock(productId: "${id}", onHand: 0) { available } }`, {}, admin));
    const after = dataOf(await gql<SearchPage>(gateway.url, SEARCH, { filter, first: 5 })).products;
    expect(after.totalCount).toBe(before.totalCount - 1);
    expect(after.nodes.map((n) => n.id)).not.toContain(id);
  });

  it('refuses RELEVANCE without a search, and a cursor of another sort', async () => {
    expect(codesOf(await gql(gateway.url, SEARCH, { sort: 'RELEVANCE' }))).toEqual(['BAD_USER_INPUT']);
    const newest = dataOf(await gql<SearchPage>(gateway.url, SEARCH, { first: 1 })).products.pageInfo.endCursor;
    const reply = await gql(gateway.url, SEARCH, { filter: { search: words[0] }, sort: 'RELEVANCE', after: newest });
    expect(codesOf(reply)).toEqual(['BAD_USER_INPUT']);
  });
});
