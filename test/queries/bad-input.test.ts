// Bad input is the client's problem, told clearly: HTTP 200 or 400 (never 500), extensions.code naming
// the kind of problem, a message naming the argument, a request id on every error, and nothing of our
// internals (no stack traces, no SQL) in any response body.
import { describe, expect, it } from 'vitest';
import { useSharedGateway } from './helpers.ts';

const gateway = useSharedGateway();

interface RawResponse {
  status: number;
  text: string;
  body: {
    data?: unknown;
    errors?: { message: string; extensions?: { code?: unknown; requestId?: unknown; [key: string]: unknown } }[];
  };
}

/** Every body this file received, checked for leaks at the end. */
const bodies: string[] = [];

async function post(body: string, contentType = 'application/json'): Promise<RawResponse> {
  const response = await fetch(gateway().url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await response.text();
  bodies.push(text);
  let parsed: RawResponse['body'];
  try {
    parsed = JSON.parse(text) as RawResponse['body'];
  } catch {
    throw new Error(`HTTP ${response.status}: the body is not JSON: ${text.slice(0, 300)}`);
  }
  return { status: response.status, text, body: parsed };
}

const graphql = (query: string, variables?: Record<string, unknown>): Promise<RawResponse> =>
  post(JSON.stringify({ query, variables }));

function expectClientError(response: RawResponse, code: string, message: RegExp): void {
  expect([200, 400], response.text).toContain(response.status);
  const error = response.body.errors?.[0];
  expect(error, response.text).toBeDefined();
  expect(error?.extensions?.code, response.text).toBe(code);
  expect(error?.message).toMatch(message);
  for (const e of response.body.errors ?? []) {
    expect(typeof e.extensions?.requestId, `every error carries extensions.requestId: ${response.text}`).toBe('string');
    expect(String(e.extensions?.requestId).length).toBeGreaterThan(0);
  }
}

const PRODUCTS =
  'query ($first: Int, $after: String, $filter: ProductFilter) { products(first: $first, after: $after, filter: ' +
  '$filter) { totalCount nodes { id } } }';

describe('page sizes outside 1..100 are BAD_USER_INPUT naming `first`', () => {
  for (const first of [-1, 0, 101]) {
    it(`products(first: ${first})`, async () => {
      expectClientError(await graphql(PRODUCTS, { first }), 'BAD_USER_INPUT', /first.*between 1 and 100/);
    });
  }
  it('events(first: 1000)', async () => {
    expectClientError(
      await graphql('{ events(first: 1000) { totalCount } }'),
      'BAD_USER_INPUT',
      /first.*between 1 and 100/,
    );
  });
});

describe('invalid cursors are BAD_USER_INPUT naming `after`', () => {
  const wrongJson = Buffer.from(JSON.stringify({ id: 1 })).toString('base64url');
  const wrongTypes = Buffer.from(JSON.stringify([1, 'x'])).toString('base64url');
  const cases: [string, string][] = [
    ['garbage', 'not a cursor!!'],
    ['base64 of JSON that is not a cursor', wrongJson],
    ['base64 of an array of the wrong types', wrongTypes],
    ['base64 of text that is not JSON', Buffer.from('hello').toString('base64url')],
  ];
  for (const [name, after] of cases) {
    it(`products(after: ${name})`, async () => {
      expectClientError(await graphql(PRODUCTS, { first: 5, after }), 'BAD_USER_INPUT', /after is not a valid cursor/);
    });
    it(`events(after: ${name})`, async () => {
      expectClientError(
        await graphql('query ($after: String) { events(first: 5, after: $after) { totalCount } }', { after }),
        'BAD_USER_INPUT',
        /after is not a valid cursor/,
      );
    });
  }
  it('a product cursor of one sort is rejected by another sort whose cursor has a different shape', async () => {
    const first = await graphql('{ products(sort: PRICE_ASC, first: 2) { pageInfo { endCursor } } }');
    const endCursor = (first.body.data as { products: { pageInfo: { endCursor: string } } }).products.pageInfo
      .endCursor;
    expectClientError(
      await graphql(
        'query ($after: String) { products(sort: BEST_SELLING, first: 2, after: $after) { nodes { id } } }',
        { after: endCursor },
      ),
      'BAD_USER_INPUT',
      /after is not a valid cursor/,
    );
  });
});

describe('malformed arguments are BAD_USER_INPUT that names the problem', () => {
  const cases: [name: string, query: string, message: RegExp][] = [
    ["postcode '5000' (4 digits)", '{ postcode(code: "5000") { code } }', /postcode must be exactly 5 digits/],
    ["postcode 'abcde'", '{ postcode(code: "abcde") { code } }', /postcode must be exactly 5 digits/],
    ["product id 'abc'", '{ product(id: "abc") { id } }', /id must be a positive integer/],
    ["product id '-5'", '{ product(id: "-5") { id } }', /id must be a positive integer/],
    ["category id '1.5'", '{ category(id: "1.5") { id } }', /id must be a positive integer/],
    ["event id 'not-a-uuid'", '{ event(id: "not-a-uuid") { id } }', /id must be a UUID/],
    ["venue id 'not-a-uuid'", '{ venue(id: "not-a-uuid") { id } }', /id must be a UUID/],
    [
      'minPrice > maxPrice',
      '{ products(filter: { minPrice: "500", maxPrice: "100" }) { totalCount } }',
      /minPrice must not be greater than filter\.maxPrice/,
    ],
    ['a negative minPrice', '{ products(filter: { minPrice: "-1" }) { totalCount } }', /minPrice must not be negative/],
    [
      "filter.categoryId 'abc'",
      '{ products(filter: { categoryId: "abc" }) { totalCount } }',
      /categoryId must be a positive integer/,
    ],
    ["filter.sellerId 'x'", '{ products(filter: { sellerId: "x" }) { totalCount } }', /sellerId must be a UUID/],
  ];
  for (const [name, query, message] of cases) {
    it(name, async () => {
      const response = await graphql(query);
      expectClientError(response, 'BAD_USER_INPUT', message);
    });
  }

  it('minPrice > maxPrice in variables', async () => {
    expectClientError(
      await graphql(PRODUCTS, { filter: { minPrice: '500.00', maxPrice: '100.00' } }),
      'BAD_USER_INPUT',
      /minPrice must not be greater than filter\.maxPrice/,
    );
  });

  it('a Decimal that is not a number, in a variable, is a 400 BAD_USER_INPUT naming Decimal', async () => {
    const response = await graphql(PRODUCTS, { filter: { minPrice: 'cheap' } });
    expectClientError(response, 'BAD_USER_INPUT', /Decimal/);
    expect(response.status).toBe(400);
  });

  it('a variable of the wrong type is a 400 BAD_USER_INPUT naming the variable', async () => {
    const response = await graphql(PRODUCTS, { first: 'ten' });
    expectClientError(response, 'BAD_USER_INPUT', /\$first/);
    expect(response.status).toBe(400);
  });
});

describe('malformed requests', () => {
  it('a syntax error is 400 GRAPHQL_PARSE_FAILED', async () => {
    const response = await graphql('{ product(id: "1") { id }');
    expect(response.status).toBe(400);
    expectClientError(response, 'GRAPHQL_PARSE_FAILED', /Syntax Error/);
  });

  it('an unknown field is 400 GRAPHQL_VALIDATION_FAILED naming the field', async () => {
    const response = await graphql('{ product(id: "1") { id priceInBitcoin } }');
    expect(response.status).toBe(400);
    expectClientError(response, 'GRAPHQL_VALIDATION_FAILED', /priceInBitcoin/);
  });

  it('a body that is not JSON is 400 with a code', async () => {
    const response = await post('{"query": "{ states { code } }"', 'application/json');
    expect(response.status).toBe(400);
    expectClientError(response, 'BAD_REQUEST', /JSON/);
  });

  it('a JSON body without a query is 400 with a code', async () => {
    const response = await post(JSON.stringify({ variables: {} }));
    expect(response.status).toBe(400);
    expectClientError(response, 'BAD_REQUEST', /query/);
  });

  it('a body streamed past 1 MiB (no Content-Length) is 413 PAYLOAD_TOO_LARGE; the next is served', async () => {
    const chunk = new TextEncoder().encode(`{"query": "${'x'.repeat(64 * 1024)}`);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1;
        if (sent > 24)
          controller.close(); // ~1.5 MiB in all
        else controller.enqueue(chunk);
      },
    });
    const response = await fetch(gateway().url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const text = await response.text();
    bodies.push(text);
    expect(response.status, text).toBe(413);
    expect((JSON.parse(text) as RawResponse['body']).errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    const next = await graphql('{ states { code } }');
    expect(next.status, next.text).toBe(200);
  });
});

describe('errors never leak internals', () => {
  it('an error response carries the request id from a well-formed X-Request-Id header', async () => {
    const response = await fetch(gateway().url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc-12345' },
      body: JSON.stringify({ query: '{ product(id: "abc") { id } }' }),
    });
    const body = (await response.json()) as RawResponse['body'];
    expect(response.headers.get('x-request-id')).toBe('trace-abc-12345');
    expect(body.errors?.[0]?.extensions?.requestId).toBe('trace-abc-12345');
  });

  // The last test of the file (tests of a file run in order): no body received above leaked internals.
  it('no response body of this file contains a stack trace or SQL', () => {
    expect(bodies.length).toBeGreaterThan(20);
    for (const text of bodies) {
      expect(text).not.toMatch(/stack/i);
      expect(text).not.toMatch(/at \//);
      expect(text).not.toMatch(/\bSELECT\b|\bFROM "|\bWHERE\b/);
      expect(text).not.toMatch(/prisma/i);
    }
  });
});
