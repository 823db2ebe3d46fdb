// Query limits (src/limits/query-limits.ts, graphql-armor) with the default QUERY_MAX_* values: too deep,
// too many aliases, too many directives, too many tokens and too costly are refused before execution
// (no SQL) with a clear message and a code; `first: 101` is BAD_USER_INPUT; introspection and the
// landing page are off in production and on otherwise; field suggestions never appear in messages.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { codesOf } from '../accounts/kit.ts';
import { dataOf, gql, type Reply } from '../support/kit.ts';

/** The defaults of src/config.ts (the test harness raises some of them; put them back). */
const DEFAULT_LIMITS = {
  QUERY_MAX_DEPTH: '10',
  QUERY_MAX_ALIASES: '30',
  QUERY_MAX_DIRECTIVES: '20',
  QUERY_MAX_TOKENS: '2000',
  QUERY_MAX_COST: '5000',
};
const REFUSAL_CODES = [
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'QUERY_TOO_COSTLY',
];

let gw: TestGateway;
let prod: TestGateway;

beforeAll(async () => {
  [gw, prod] = await Promise.all([
    startTestGateway({ databaseUrl: inject('databaseUrl'), env: DEFAULT_LIMITS }),
    startTestGateway({
      databaseUrl: inject('databaseUrl'),
      env: { ...DEFAULT_LIMITS, NODE_ENV: 'production', KEY_HASH_SECRET: 'query-limits-test-secret' },
    }),
  ]);
});
afterAll(async () => {
  await Promise.allSettled([gw?.stop(), prod?.stop()]);
});

/** Sends the query and returns the reply with the SQL it caused. */
async function withSql(
  gateway: TestGateway,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ reply: Reply; sql: string[] }> {
  gateway.sql.length = 0;
  const reply = await gql(gateway.url, query, variables);
  return { reply, sql: [...gateway.sql] };
}

/** Refused before execution: a 4xx, no data, one or more errors each with a code and a request id, no SQL. */
function expectRefusedBeforeExecution({ reply, sql }: { reply: Reply; sql: string[] }, message: RegExp): void {
  expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
  expect(reply.status, reply.text).toBeLessThan(500);
  expect(reply.body.data ?? null).toBeNull();
  const errors = reply.body.errors ?? [];
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(REFUSAL_CODES, reply.text).toContain(error.extensions?.code);
    expect(typeof error.extensions?.requestId, reply.text).toBe('string');
  }
  expect(errors.map((e) => e.message).join('\n')).toMatch(message);
  expect(sql, 'nothing may execute').toEqual([]);
}

const nest = (levels: number, inner: string): string => 'parent { '.repeat(levels) + inner + ' }'.repeat(levels);

describe('limits, refused before execution', () => {
  it('a control query within every limit executes (and sends SQL)', async () => {
    const { reply, sql } = await withSql(
      gw,
      `{ category(id: "5") { id ${nest(6, 'id name')} } products(first: 3) { nodes { id name } } }`,
    );
    dataOf(reply);
    expect(sql.length).toBeGreaterThan(0);
  });

  it('too deep', async () => {
    expectRefusedBeforeExecution(
      await withSql(gw, `{ category(id: "5") { ${nest(12, 'id')} } }`),
      /depth limit of 10/i,
    );
  });

  it('too many aliases', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `p${i}: product(id: "${i + 1}") { id }`).join(' ');
    expectRefusedBeforeExecution(await withSql(gw, `{ ${aliases} }`), /aliases limit of 30/i);
    // 30 is fine.
    const thirty = Array.from({ length: 30 }, (_, i) => `p${i}: product(id: "${i + 1}") { id }`).join(' ');
    dataOf((await withSql(gw, `{ ${thirty} }`)).reply);
  });

  it('too many directives', async () => {
    const fields = Array.from({ length: 21 }, () => 'name @include(if: true)').join(' ');
    expectRefusedBeforeExecution(await withSql(gw, `{ product(id: "1") { id ${fields} } }`), /directives limit of 20/i);
  });

  it('too many tokens', async () => {
    const fields = Array.from({ length: 700 }, () => 'id name sku').join(' ');
    expectRefusedBeforeExecution(
      await withSql(gw, `{ product(id: "1") { ${fields} } }`),
      /token limit of 2000|contains more \w+ 2000 tokens/i,
    );
  });

  it('too costly', async () => {
    // Depth 4, no alias, no directive, few tokens, but 100 x 100 products can come back: cost over 5000.
    const query = '{ products(first: 100) { nodes { category { products(first: 100) { nodes { id name } } } } } }';
    expectRefusedBeforeExecution(await withSql(gw, query), /cost limit of 5000/i);
  });

  it('first: 101 is BAD_USER_INPUT (and 100 is fine)', async () => {
    for (const query of [
      '{ products(first: 101) { totalCount } }',
      '{ events(first: 101) { totalCount } }',
      '{ category(id: "5") { products(first: 101) { totalCount } } }',
    ]) {
      const { reply } = await withSql(gw, query);
      expect(codesOf(reply), reply.text).toEqual(['BAD_USER_INPUT']);
      expect(reply.body.errors![0]!.message).toMatch(/first must be between 1 and 100/);
      expect(reply.body.errors![0]!.extensions?.argumentName).toBe('first');
    }
    const { reply } = await withSql(gw, 'query P($n: Int) { products(first: $n) { totalCount } }', { n: 101 });
    expect(codesOf(reply)).toEqual(['BAD_USER_INPUT']);
    dataOf((await withSql(gw, '{ products(first: 100) { totalCount } }')).reply);
  });
});

const INTROSPECTION =
  `query IntrospectionQuery { __schema { queryType { name } types { name kind fields { name } } ` + `} }`;

describe('introspection and the landing page', () => {
  it('are off with NODE_ENV=production', async () => {
    for (const query of [INTROSPECTION, '{ __type(name: "User") { name fields { name } } }']) {
      const { reply, sql } = await withSql(prod, query);
      expect(reply.body.data ?? null, reply.text).toBeNull();
      expect(codesOf(reply).length).toBeGreaterThan(0);
      for (const code of codesOf(reply)) expect(REFUSAL_CODES).toContain(code);
      expect(reply.text).toMatch(/introspection/i);
      expect(reply.text).not.toContain('"fields"');
      expect(sql).toEqual([]);
    }
    // __typename is not introspection.
    expect(dataOf(await gql<{ __typename: string }>(prod.url, '{ __typename }')).__typename).toBe('Query');

    const page = await fetch(prod.url, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(page.status).not.toBe(200);
    expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
    expect(html).not.toMatch(/<!DOCTYPE html|<html|<script|embeddable-sandbox|landing-page/i);
  });

  it('are on otherwise', async () => {
    const data = dataOf(
      await gql<{ __schema: { queryType: { name: string }; types: { name: string }[] } }>(gw.url, INTROSPECTION),
    );
    expect(data.__schema.queryType.name).toBe('Query');
    expect(data.__schema.types.map((t) => t.name)).toContain('Product');
    const page = await fetch(gw.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<!DOCTYPE html>/i);
  });
});

describe('no field suggestions in error messages', () => {
  const TYPOS: [string, string, Record<string, unknown>?][] = [
    ['field', '{ prodct(id: "1") { id } }'],
    ['nested field', '{ product(id: "1") { nmae } }'],
    ['argument', '{ products(frist: 1) { totalCount } }'],
    ['type in a variable definition', 'query Q($id: I) { product(id: $id) { id } }', { id: '1' }],
    ['enum value in the query', '{ products(sort: NEWST) { totalCount } }'],
    ['enum value in a variable', 'query Q($s: ProductSort) { products(sort: $s) { totalCount } }', { s: 'PRICE_AS' }],
    [
      'input field in a variable',
      'query Q($f: ProductFilter) { products(filter: $f) { totalCount } }',
      { f: { serch: 'batik' } },
    ],
    ['input field in the query', '{ products(filter: { serch: "batik" }) { totalCount } }'],
    ['enum value of a member tier', '{ product(id: "1") { price(tier: GOLDD) { amount } } }'],
    ['fragment type condition', '{ product(id: "1") { ...F } } fragment F on Prodct { id }'],
  ];

  for (const [gateway, label] of [
    [() => gw, 'development'],
    [() => prod, 'production'],
  ] as const) {
    it.each(TYPOS)(`${label}: a misspelt %s gets no "Did you mean"`, async (_what, query, variables) => {
      const reply = await gql(gateway().url, query, variables);
      expect(reply.body.errors?.length ?? 0, reply.text).toBeGreaterThan(0);
      expect(reply.status).toBeLessThan(500);
      for (const error of reply.body.errors!) expect(typeof error.extensions?.code).toBe('string');
      expect(reply.text).not.toMatch(/did you mean/i);
      // The right names are not leaked any other way either.
      expect(reply.text).not.toMatch(/"(product|name|first|ID|NEWEST|PRICE_ASC|search|GOLD)"/);
    });
  }
});
