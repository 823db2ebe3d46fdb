// No N+1, ever: a page of 100 products with category, inventory and price costs at most one SQL
// statement per entity type on a cold cache, and none at all once warm, on this instance (L1) and on a
// second instance sharing the Redis and prefix (L2). 100 product(id:) aliases are one Product query.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { dataStatements, metricSum, showSql, sqlByTable, sqlDuring, type TestGateway } from './kit.ts';
import { dataOf } from '../support/kit.ts';

const PAGE_QUERY = /* GraphQL */ `
  query Page {
    products(first: 100, sort: PRICE_ASC) {
      nodes { id name category { name } inventory { available } price { amount } }
    }
  }
`;

interface PageData {
  products: {
    nodes: {
      id: string;
      name: string;
      category: { name: string };
      inventory: { available: number } | null;
      price: { amount: string };
    }[];
  };
}

const ENTITY_TABLES = ['Product', 'Category', 'Inventory', 'MemberPrice'];

let database: TestDatabase;
let first: TestGateway; // instance A
let second: TestGateway; // instance B: same Redis, same prefix, its own (cold) L1
let aliases: TestGateway; // its own fresh prefix: cold for the alias query
let coldPage: PageData;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const cachePrefix = randomPrefix();
  // The entity layers under the execution path are what is counted: no stored answers in front of them.
  const env = { RESPONSE_CACHE: 'false' };
  first = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix, env });
  second = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix, env });
  aliases = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl') });
});

afterAll(async () => {
  await Promise.allSettled([first?.stop(), second?.stop(), aliases?.stop()]);
  await database?.drop();
});

describe('a page of 100 products with category, inventory and price', () => {
  it('runs at most one SQL query per entity type touched on a cold cache', async () => {
    const { result, sql } = await sqlDuring(first, () => first.query<PageData>(PAGE_QUERY));
    coldPage = dataOf(result);
    console.log(`[sql-counts] cold page: ${sql.length} statements ${JSON.stringify(sqlByTable(sql))}`);

    expect(coldPage.products.nodes).toHaveLength(100);
    for (const node of coldPage.products.nodes) {
      expect(node.category.name).toBeTruthy();
      expect(node.inventory).not.toBeNull();
      expect(node.price.amount).toMatch(/^\d+\.\d{2}$/);
    }
    const counts = sqlByTable(dataStatements(sql));
    for (const [table, count] of Object.entries(counts)) {
      expect(ENTITY_TABLES, `unexpected SQL against ${table}:\n${showSql(sql)}`).toContain(table);
      expect(count, `${count} queries against "${table}" (want at most 1):\n${showSql(sql)}`).toBeLessThanOrEqual(1);
    }
    expect(dataStatements(sql).length, showSql(sql)).toBeLessThanOrEqual(ENTITY_TABLES.length);
  });

  it('runs no SQL when the same query is repeated on the same instance (L1)', async () => {
    const { result, sql } = await sqlDuring(first, () => first.query<PageData>(PAGE_QUERY));
    expect(dataOf(result)).toEqual(coldPage);
    expect(dataStatements(sql), showSql(sql)).toEqual([]);
  });

  it('runs no SQL on a second instance sharing the Redis and prefix: it is served from Redis', async () => {
    const redisHitsBefore = await metricSum(second.metrics.cacheLookups, { layer: 'redis', result: 'hit' });
    const { result, sql } = await sqlDuring(second, () => second.query<PageData>(PAGE_QUERY));
    expect(dataOf(result)).toEqual(coldPage);
    expect(dataStatements(sql), `the second instance went to PostgreSQL:\n${showSql(sql)}`).toEqual([]);
    const redisHits =
      (await metricSum(second.metrics.cacheLookups, { layer: 'redis', result: 'hit' })) - redisHitsBefore;
    console.log(`[sql-counts] second instance: 0 SQL expected, got ${sql.length}; ${redisHits} Redis hits`);
    // The page entry, 100 products, their categories and 100 inventories.
    expect(redisHits).toBeGreaterThanOrEqual(100);
  });
});

describe('100 product(id:) aliases in one operation', () => {
  it('cost one SQL query against Product, cold', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => i + 101);
    const query = `query Aliases { ${ids.map((id) => `p${id}: product(id: "${id}") { id name }`).join(' ')} }`;
    const { result, sql } = await sqlDuring(aliases, () =>
      aliases.query<Record<string, { id: string; name: string } | null>>(query),
    );
    const data = dataOf(result);
    for (const id of ids) expect(data[`p${id}`]?.id).toBe(String(id));
    console.log(`[sql-counts] 100 aliases cold: ${JSON.stringify(sqlByTable(sql))}`);
    expect(sqlByTable(dataStatements(sql)), showSql(sql)).toEqual({ Product: 1 });

    const warm = await sqlDuring(aliases, () => aliases.query(query));
    dataOf(warm.result);
    expect(dataStatements(warm.sql), showSql(warm.sql)).toEqual([]);
  });
});

describe('one listing per category (Category.products for every category)', () => {
  it('costs one SQL statement for all the pages and one for all the counts, cold', async () => {
    const listing = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl') });
    try {
      const query =
        '{ categories { id children { id products(first: 2, sort: PRICE_ASC) { totalCount nodes { id name } } } } }';
      const { result, sql } = await sqlDuring(listing, async () =>
        dataOf(await listing.query<{ categories: { children: unknown[] }[] }>(query)),
      );
      const pages = result.categories.flatMap((c) => c.children).length;
      console.log(`[sql] ${pages} category listings with counts, cold: ${JSON.stringify(sqlByTable(sql))}`);
      expect(pages).toBeGreaterThan(10);
      expect(sqlByTable(sql).Product, showSql(sql)).toBe(2);
    } finally {
      await listing.stop();
    }
  });
});
