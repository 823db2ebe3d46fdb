// Fuzzing the HTTP endpoint: 5,000+ malformed, oversized, deeply nested and randomly mutated requests
// generated from the client's own operations (client/operations/*.graphql) with a deterministic PRNG,
// mixed with the shapes of every attack class (attackClass below),
// sent with bounded concurrency to a real gateway (real PostgreSQL, real Redis, default query limits).
// Expectations: zero HTTP 5xx, nothing crashes (the gateway still answers /healthz and a normal query
// afterwards), every GraphQL error has extensions.code, and no response carries a stack trace or SQL.
// Counts by category, HTTP status and error code are printed at the end.
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { Kind, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { EMAILS, sqlRows } from '../accounts/kit.ts';
import { pool } from '../support/pool.ts';
import { dataOf, gql, signIn } from '../support/kit.ts';

const SEED = 0x5eed_c0de;
const TOTAL = 5_200;
const CONCURRENCY = 16;
const QUERY_LIMITS = {
  QUERY_MAX_DEPTH: '10',
  QUERY_MAX_ALIASES: '30',
  QUERY_MAX_DIRECTIVES: '20',
  QUERY_MAX_TOKENS: '2000',
  QUERY_MAX_COST: '5000',
};

// ------------------------------------------------------------------------------------------- PRNG

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ------------------------------------------------------------------------------------------ Seeds

interface Seed {
  query: string;
  variables: Record<string, unknown>;
}

const SESSION_ENDING = new Set(['SignOut', 'SignOutEverywhere']);

/** Every operation of client/operations/*.graphql, printed alone, plus the mutations a client sends. */
function loadSeeds(ids: { eventId: string; venueId: string; orgId: string }): Seed[] {
  const dir = new URL('../../client/operations/', import.meta.url);
  const seeds: Seed[] = [];
  const sampleVariables: Record<string, unknown> = {
    id: '1',
    productId: '1',
    tier: 'GOLD',
    filter: { search: 'batik' },
    sort: 'PRICE_ASC',
    first: 5,
    after: null,
    code: '50450',
    state: 'Selangor',
    eventId: ids.eventId,
    section: 'A',
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.graphql'))) {
    const document = parse(readFileSync(new URL(file, dir), 'utf8'));
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      // Signing out with the admin's token would end the session whose survival the run checks at its end.
      if (SESSION_ENDING.has(definition.name?.value ?? '')) continue;
      const names = (definition.variableDefinitions ?? []).map((v) => v.variable.name.value);
      seeds.push({
        query: print(definition),
        variables: Object.fromEntries(names.map((n) => [n, sampleVariables[n] ?? null])),
      });
    }
  }
  const day = 86_400_000;
  seeds.push(
    {
      query:
        'mutation SignIn($email: String!, $password: String!) { signIn(email: $email, password: $password) { token ' +
        'user { id } } }',
      variables: { email: 'nobody@cachegate.test', password: 'x'.repeat(12) },
    },
    {
      query:
        'mutation SignUp($email: String!, $password: String!, $displayName: String!) { signUp(email: $email, ' +
        'password: $password, displayName: $displayName) { token } }',
      variables: { email: 'fuzz', password: 'short', displayName: '' },
    },
    {
      query: 'mutation W($productId: ID!) { toggleWishlist(productId: $productId) { count inWishlist } }',
      variables: { productId: '3' },
    },
    {
      query:
        'mutation U($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name ' +
        'basePrice } }',
      variables: { id: '4', input: { name: 'Fuzzed', price: '9.90' } },
    },
    {
      query:
        'mutation S($productId: ID!, $onHand: Int!) { setStock(productId: $productId, onHand: $onHand) { onHand ' +
        'available } }',
      variables: { productId: '5', onHand: 7 },
    },
    {
      query: 'mutation C($input: CreateProductInput!) { createProduct(input: $input) { id } }',
      variables: { input: { sku: 'FZ-1', name: 'Fuzz', price: '1.00', categoryId: '1' } },
    },
    {
      query: 'mutation E($id: ID!, $input: UpdateEventInput!) { updateEvent(id: $id, input: $input) { id status } }',
      variables: { id: ids.eventId, input: { capacity: 10 } },
    },
    {
      query: 'mutation CE($input: CreateEventInput!) { createEvent(input: $input) { id } }',
      variables: {
        input: {
          venueId: ids.venueId,
          name: 'Fuzz night',
          startsAt: new Date(Date.now() + 9 * day).toISOString(),
          salesOpenAt: new Date().toISOString(),
          salesCloseAt: new Date(Date.now() + 8 * day).toISOString(),
          capacity: 5,
        },
      },
    },
    {
      query: 'mutation V($input: CreateVenueInput!) { createVenue(input: $input) { id } }',
      variables: { input: { organizationId: ids.orgId, name: 'Fuzz hall', city: 'Ipoh', capacity: 3 } },
    },
    { query: 'mutation P($tags: [String!]!) { purgeCache(tags: $tags) }', variables: { tags: ['Product'] } },
    {
      query: 'mutation R($id: ID!) { revokeSession(id: $id) }',
      variables: { id: '00000000-0000-0000-0000-000000000000' },
    },
    {
      query:
        'query A($action: String, $first: Int) { auditLog(action: $action, first: $first) { id action } cacheStats ' +
        '{ mode } myOrganization { id } }',
      variables: { action: 'SIGN_IN', first: 3 },
    },
    { query: 'query Me { me { id sessions { id current } wishlist(first: 3) { id } } }', variables: {} },
    {
      query: 'query V($id: ID!) { venue(id: $id) { name events { id status } organization { venues { id } } } }',
      variables: { id: ids.venueId },
    },
    { query: 'query Cycle { ...A } fragment A on Query { ...B } fragment B on Query { ...A }', variables: {} },
    {
      query:
        'query Intro { __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ' +
        '} } } } } } } }',
      variables: {},
    },
    { query: 'query Two { me { id } } query Three { categories { id } }', variables: {} },
  );
  return seeds;
}

// ------------------------------------------------------------------------------------- Generators

interface FuzzRequest {
  category: string;
  method: string;
  /** Path and query string. */
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Raw bytes over a socket instead of fetch. */
  raw?: string;
}

const JUNK_CHARS = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '$',
  '@',
  '!',
  '.',
  '...',
  '"',
  '"""',
  '\\',
  '\n',
  '\t',
  ' ',
  '#',
  ',',
  '=',
  '|',
  '&',
  '0',
  '-1',
  'é',
  'ß',
  '中',
  '😀',
  '\u202e',
  '\u0000',
  '\u0001',
  '\ud800',
  'on',
  'fragment',
  'query',
  'mutation',
  '__typename',
  'null',
  'true',
];
const STRINGS = [
  '',
  ' ',
  'a',
  'batik',
  '"quoted"',
  "'single'",
  '\\',
  '\u0000',
  'a\u0000b',
  '%00',
  '😀😀😀',
  'مرحبا',
  'שלום',
  '\u202eevil',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '$' + '{7*7}',
  '../../etc/passwd',
  "' OR 1=1 --",
  'NaN',
  '-1',
  '0',
  '1e309',
  '00000000-0000-0000-0000-000000000000',
  'not-a-uuid',
  '9999999999',
  '2147483648',
  'MQ',
  'eyJ4IjoxfQ',
  '2024-13-45T99:99:99Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
];

function hugeString(rng: Rng, size = 100_000): string {
  const unit = rng.pick(['a', 'é', '中', '😀', '\u0000', 'ab ', '\\n']);
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

/** Pre-serialised JSON, spliced into a body as is: JSON.stringify cannot nest 100,000 levels deep. */
class RawJson {
  constructor(readonly text: string) {}
}

function deepArray(depth: number): RawJson {
  return new RawJson(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
}

function deepObject(depth: number): RawJson {
  return new RawJson(`${'{"id":"1","search":'.repeat(depth)}"x"${'}'.repeat(depth)}`);
}

/** JSON.stringify that splices RawJson values in verbatim. */
function stringify(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, inner: unknown) =>
    inner instanceof RawJson ? `@@raw${raws.push(inner.text) - 1}@@` : inner,
  );
  return text.replace(/"@@raw(\d+)@@"/g, (_m, n: string) => raws[Number(n)]!);
}

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(0, depth > 3 ? 9 : 13)) {
    case 0:
      return null;
    case 1:
      return rng.pick([
        0,
        -1,
        1,
        101,
        2 ** 31,
        -(2 ** 31) - 1,
        2 ** 53 + 1,
        1.5,
        -0.0001,
        1e308,
        Number.MAX_SAFE_INTEGER,
      ]);
    case 2:
      return rng.chance(0.5);
    case 3:
    case 4:
      return rng.pick(STRINGS);
    case 5:
      return rng.pick(['GOLD', 'PLATINUM', 'DRAFT', 'ON_SALE', 'PRICE_ASC', 'gold', 'Gold']);
    case 6:
      return String(rng.int(-5, 400));
    case 7:
      return rng.chance(0.1) ? hugeString(rng, rng.int(1_000, 100_000)) : rng.pick(STRINGS) + rng.pick(STRINGS);
    case 8:
      return rng.pick([[], {}, [null], [1, 'a'], { id: '1' }]);
    case 9:
      return rng.pick(['1', '2', 'abc', '']);
    case 10:
      return Array.from({ length: rng.int(0, 5) }, () => randomValue(rng, depth + 1));
    case 11:
      return Object.fromEntries(
        Array.from({ length: rng.int(0, 5) }, () => [
          rng.pick([
            'id',
            'search',
            'first',
            'categoryId',
            'minPrice',
            'sellerId',
            'status',
            'organizationId',
            'includeDrafts',
            'startsAfter',
            'x',
            '__proto__',
            'constructor',
          ]),
          randomValue(rng, depth + 1),
        ]),
      );
    case 12:
      return rng.chance(0.5) ? deepArray(rng.int(50, 5_000)) : deepObject(rng.int(50, 2_000));
    default:
      return rng.pick(['1', 1, null]);
  }
}

function randomVariables(rng: Rng, seed: Seed): Record<string, unknown> {
  const variables: Record<string, unknown> = { ...seed.variables };
  for (const name of Object.keys(variables)) if (rng.chance(0.7)) variables[name] = randomValue(rng);
  if (rng.chance(0.3))
    variables[rng.pick(['extra', 'id', '__proto__', 'constructor', 'x'.repeat(200)])] = randomValue(rng);
  return variables;
}

function mutateChars(rng: Rng, text: string): string {
  let out = text;
  const edits = rng.int(1, 10);
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = rng.int(0, out.length - 1);
    switch (rng.int(0, 3)) {
      case 0:
        out = out.slice(0, at) + out.slice(at + rng.int(1, 4));
        break; // drop
      case 1:
        out = out.slice(0, at) + out.slice(at, at + rng.int(1, 6)).repeat(rng.int(2, 4)) + out.slice(at);
        break; // duplicate
      case 2:
        out = out.slice(0, at) + rng.pick(JUNK_CHARS) + out.slice(at);
        break; // insert
      default:
        out = out.slice(0, at) + rng.pick(JUNK_CHARS) + out.slice(at + 1); // replace
    }
  }
  return out;
}

function swapTokens(rng: Rng, text: string): string {
  const tokens = text.match(/\.\.\.|[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|\S/g) ?? [];
  if (tokens.length < 2) return text;
  const edits = rng.int(1, 4);
  for (let i = 0; i < edits; i++) {
    const a = rng.int(0, tokens.length - 1);
    const b = rng.int(0, tokens.length - 1);
    switch (rng.int(0, 2)) {
      case 0:
        [tokens[a], tokens[b]] = [tokens[b]!, tokens[a]!];
        break;
      case 1:
        tokens.splice(a, 1);
        break;
      default:
        tokens.splice(a, 0, tokens[b]!);
    }
  }
  return tokens.join(' ');
}

function deepQuery(rng: Rng): string {
  const depth = rng.int(11, 600);
  switch (rng.int(0, 4)) {
    case 0:
      return `{ category(id: "5") { ${'parent { '.repeat(depth)} id ${'} '.repeat(depth)} } }`;
    case 1:
      return `{ ${'a { '.repeat(depth)} b ${'} '.repeat(depth)} }`;
    case 2:
      return `{ products(filter: ${'{ search: '.repeat(depth)}"x"${' }'.repeat(depth)}) { totalCount } }`;
    case 3:
      return `{ product(id: ${'['.repeat(depth)}"1"${']'.repeat(depth)}) { id } }`;
    default:
      return `${'{'.repeat(depth)}${'}'.repeat(rng.int(0, depth))}`;
  }
}

/** encodeURIComponent that tolerates lone surrogates (the fuzz makes them). */
const uri = (text: string): string =>
  encodeURIComponent(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));

function json(rng: Rng, query: string, variables: unknown, extra: Record<string, unknown> = {}): string {
  return stringify({
    query,
    variables,
    ...(rng.chance(0.2) && { operationName: rng.pick([null, '', 'X', 'Me', 42 as unknown as string]) }),
    ...extra,
  });
}

const BASE_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

/**
 * Shapes of the attack classes (test/security/attacks.test.ts): huge literals and variables quoted by
 * error messages, cycles through lists, page sizes from variables, aliased mutations and sign-ins, NUL
 * characters and numbers beyond a column's range.
 */
function attackClass(rng: Rng): string {
  const spaces = ' '.repeat(rng.int(1_000, 60_000));
  const nul = rng.pick(['\u0000', 'a\u0000b', '\u0000'.repeat(rng.int(1, 50))]);
  const aliases = (field: string): string =>
    Array.from({ length: rng.int(2, 40) }, (_, i) => `a${i}: ${field}`).join(' ');
  const shapes: [string, Record<string, unknown>][] = [
    [`{ products(first: "${spaces}") { totalCount } }`, {}],
    ['query ($n: Int) { products(first: $n) { totalCount } }', { n: spaces }],
    ['query ($s: ProductSort) { products(sort: $s) { totalCount } }', { s: `${spaces}PRICE_AS` }],
    ['{ categories { products(first: 100) { nodes { category { products(first: 100) { nodes { id } } } } } } }', {}],
    ['{ events(first: 100) { nodes { seats { event { seats { id } } } } } }', {}],
    [
      'query ($n: Int) { products(first: $n) { nodes { category { products(first: $n) { nodes { id name } } } } } }',
      rng.chance(0.5) ? { n: rng.int(1, 100) } : {},
    ],
    [`mutation { ${aliases('toggleWishlist(productId: "1") { count }')} }`, {}],
    [`mutation { ${aliases('signIn(email: "customer1@cachegate.test", password: "wrong-password") { token }')} }`, {}],
    ['query ($s: String) { products(filter: { search: $s }) { totalCount } }', { s: nul }],
    ['mutation ($e: String!) { signIn(email: $e, password: "whatever-password") { token } }', { e: `x${nul}@y.test` }],
    ['query ($a: String) { auditLog(action: $a) { id } }', { a: nul }],
    ['query ($id: ID!) { event(id: $id) { id } }', { id: nul }],
    [
      'mutation ($p: Decimal!) { updateProduct(id: "1", input: { price: $p }) { id } }',
      { p: rng.pick(['999999999999999.99', '-100000000', '1e400']) },
    ],
    [
      'mutation ($n: Int!) { setStock(productId: "1", onHand: $n) { available } }',
      { n: rng.pick([2 ** 31, -(2 ** 40)]) },
    ],
  ];
  const [query, variables] = rng.pick(shapes);
  return JSON.stringify({ query, variables });
}

function generate(index: number, seeds: readonly Seed[], adminToken: string): FuzzRequest {
  const rng = new Rng(SEED ^ Math.imul(index + 1, 0x9e3779b1));
  const seed = rng.pick(seeds);
  const headers: Record<string, string> = { ...BASE_HEADERS };
  if (rng.chance(0.2)) headers.authorization = `Bearer ${adminToken}`;
  const post = (category: string, body: string, extraHeaders: Record<string, string> = {}): FuzzRequest => ({
    category,
    method: 'POST',
    path: '/graphql',
    headers: { ...headers, ...extraHeaders },
    body,
  });
  if (rng.chance(0.12)) return post('attack-classes', attackClass(rng));
  const roll = rng.int(0, 99);
  if (roll < 18) return post('chars', json(rng, mutateChars(rng, seed.query), seed.variables));
  if (roll < 30) return post('tokens', json(rng, swapTokens(rng, seed.query), seed.variables));
  if (roll < 48) return post('variables', json(rng, seed.query, randomVariables(rng, seed)));
  if (roll < 53) {
    const big = hugeString(rng);
    return post(
      'huge-string',
      rng.chance(0.5)
        ? json(rng, seed.query, Object.fromEntries(Object.keys(seed.variables).map((k) => [k, big])))
        : json(rng, `{ products(filter: { search: ${JSON.stringify(big)} }) { totalCount } }`, {}),
    );
  }
  if (roll < 60)
    return post(
      'deep',
      rng.chance(0.7)
        ? json(rng, deepQuery(rng), {})
        : json(rng, seed.query, {
            ...seed.variables,
            [rng.pick(Object.keys(seed.variables).concat('x'))]: rng.chance(0.5)
              ? deepArray(rng.int(1_000, 100_000))
              : deepObject(rng.int(100, 3_000)),
          }),
    );
  if (roll < 64)
    return post(
      'unicode',
      json(
        rng,
        seed.query.replace(/\s+/g, () => rng.pick([' ', '\u00a0', '\u2028', '\ufeff', '\t', '\r\n'])),
        randomVariables(rng, seed),
      ),
    );
  if (roll < 70) {
    const valid = json(rng, seed.query, seed.variables);
    const bodies = [
      valid.slice(0, rng.int(0, valid.length - 1)),
      '{',
      '{"query":',
      'nul',
      '\ufeff' + valid,
      valid + '}',
      valid.replace(/"/g, "'"),
      '{"query": 1}',
      '{"query": null}',
      '{"query": {}}',
      '{"query": []}',
      `{"query": ${JSON.stringify(seed.query)}, "variables": "notobject"}`,
      `{"query": ${JSON.stringify(seed.query)}, "variables": [1,2]}`,
      `{"query": ${JSON.stringify(seed.query)}, "operationName": 7}`,
      `{"query": ${JSON.stringify(seed.query)}, "extensions": "x"}`,
      '{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}}',
      `{"query": ${JSON.stringify(seed.query)}, "extensions": {"persistedQuery": {"version": 2, "sha256Hash": 5}}}`,
      '[]',
      '"just a string"',
      'null',
      '123',
      'true',
      '{}',
      '{"query": "{ __typename }", "query": "{ me { id } }"}',
      '\u0000\u0001\u0002',
      Buffer.from(Array.from({ length: 64 }, () => rng.int(0, 255))).toString('latin1'),
    ];
    return post('invalid-json', rng.pick(bodies));
  }
  if (roll < 75) {
    const contentType = rng.pick([
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      'multipart/form-data; boundary=xyz',
      'application/graphql',
      'application/xml',
      '',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      '*/*',
      'application/graphql-response+json',
      'garbage;;;=',
      'APPLICATION/JSON',
    ]);
    const body = rng.chance(0.5) ? json(rng, seed.query, seed.variables) : seed.query;
    const h: Record<string, string> = { ...headers };
    if (contentType) h['content-type'] = contentType;
    else delete h['content-type'];
    return { category: 'content-type', method: 'POST', path: '/graphql', headers: h, body };
  }
  if (roll < 83) {
    const q = uri(rng.chance(0.5) ? seed.query : mutateChars(rng, seed.query));
    const v = uri(stringify(rng.chance(0.5) ? seed.variables : randomVariables(rng, seed)).slice(0, 3_000));
    const searches = [
      `?query=${q}`,
      `?query=${q}&variables=${v}`,
      `?query=${q}&variables=%ZZ`,
      `?query=${q}&variables=notjson`,
      `?query=${q}&query=${q}`,
      '?query=',
      '?',
      '?variables={}',
      `?query[]=${q}`,
      `?query=${q}&extensions=%7B%7D`,
      `?query=${q}&extensions=[1]`,
      `?query=${q}&operationName=`,
      `?query=${encodeURIComponent('mutation { purgeCache(tags: ["Product"]) }')}`,
      '?query=%00',
      `?query=${'%7B'.repeat(2_000)}`,
      '?%%%',
      '?query=%E0%A4%A',
    ];
    const accept = rng.pick([
      'application/json',
      'text/html',
      '*/*',
      'application/xml',
      'application/graphql-response+json',
      'text/html;q=0.1, application/json',
    ]);
    const h: Record<string, string> = { accept };
    if (rng.chance(0.5)) h['apollo-require-preflight'] = 'true';
    if (headers.authorization) h.authorization = headers.authorization;
    const path = rng.pick([
      '/graphql',
      '/graphql',
      '/graphql',
      '/graphql/',
      '/GRAPHQL',
      '/healthz',
      '/readyz',
      '/nope',
      '/graphql/../graphql',
    ]);
    return { category: 'get', method: 'GET', path: `${path}${rng.pick(searches)}`, headers: h };
  }
  if (roll < 87) {
    const batch = Array.from({ length: rng.int(1, 5) }, () => ({
      query: rng.pick(seeds).query,
      variables: seed.variables,
    }));
    return post('batched', stringify(batch));
  }
  if (roll < 88)
    return post('oversized', JSON.stringify({ query: '{ __typename }', variables: { x: 'y'.repeat(1_100_000) } }));
  if (roll < 91)
    return {
      category: 'method',
      method: rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']),
      path: '/graphql',
      headers,
      ...(rng.chance(0.5) && { body: json(rng, seed.query, seed.variables) }),
    };
  if (roll < 97) {
    const h: Record<string, string> = { ...headers };
    const odd = rng.int(0, 6);
    if (odd === 0) h.authorization = `Bearer ${'A'.repeat(43)}`;
    else if (odd === 1) h.authorization = `Bearer ${'x'.repeat(rng.int(1, 5_000))}`;
    else if (odd === 2)
      h.authorization = rng.pick([
        'Basic Zm9vOmJhcg==',
        'Bearer',
        'Bearer  ',
        'bearer ' + adminToken,
        `Bearer ${adminToken} extra`,
        'Bearer ../../',
        `Bearer ${adminToken.slice(0, 42)}!`,
      ]);
    else if (odd === 3) h['x-request-id'] = rng.pick(['', 'x'.repeat(5_000), '../../', '\u00ff\u00fe', 'a b c', '{}']);
    else if (odd === 4)
      h.accept = rng.pick([
        'application/xml',
        'text/html',
        '',
        'multipart/mixed',
        'text/event-stream',
        'application/json;q=0',
      ]);
    else if (odd === 5)
      h['x-forwarded-for'] = rng.pick(['1.2.3.4', 'garbage', '::1, 10.0.0.1', '999.999.999.999', 'x'.repeat(2_000)]);
    else
      h[rng.pick(['content-encoding', 'x-http-method-override', 'apollo-require-preflight'])] = rng.pick([
        'gzip',
        'GET',
        'DELETE',
        '',
        'x'.repeat(3_000),
      ]);
    return { ...post('headers', json(rng, seed.query, seed.variables)), headers: h };
  }
  const valid = json(rng, '{ __typename }', {});
  const raws = [
    `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ` +
      `${valid.length + 50}\r\n\r\n${valid}`,
    `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n${valid}`,
    `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: ` +
      `chunked\r\n\r\nZZ\r\n${valid}\r\n0\r\n\r\n`,
    `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nContent-Length: ` +
      `7\r\n\r\n{"q":1}`,
    `GARBAGE\r\n\r\n`,
    `GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nX-Bad\u0001Header: 1\r\n\r\n`,
    `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ` +
      `${valid.length}\r\n\r\n${valid.slice(0, 10)}`,
    `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  ];
  return { category: 'raw-http', method: 'RAW', path: '/graphql', headers: {}, raw: rng.pick(raws) };
}

// --------------------------------------------------------------------------------------- Sending

interface Outcome {
  category: string;
  status: number | string;
  text: string;
  contentType: string;
}

function sendRaw(port: number, raw: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (status: number | string): void => {
      socket.destroy();
      resolve({ category: 'raw-http', status, text: data, contentType: '' });
    };
    socket.setTimeout(1_500, () =>
      done(data ? Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0) || 'timeout' : 'timeout'),
    );
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
    });
    socket.on('error', () => done(data ? Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0) : 'socket-error'));
    socket.on('end', () => done(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0) || 'closed'));
    socket.on('connect', () => {
      socket.write(raw, 'latin1');
      // Half-close so a server waiting for more body bytes sees the end of the request.
      setTimeout(() => socket.end(), 300);
    });
  });
}

async function send(base: string, port: number, request: FuzzRequest): Promise<Outcome> {
  if (request.raw !== undefined) return sendRaw(port, request.raw);
  try {
    const response = await fetch(base + request.path, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined &&
        request.method !== 'GET' &&
        request.method !== 'HEAD' && { body: request.body }),
      signal: AbortSignal.timeout(20_000),
    });
    return {
      category: request.category,
      status: response.status,
      text: await response.text(),
      contentType: response.headers.get('content-type') ?? '',
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return {
      category: request.category,
      status: `fetch-error:${cause?.code ?? (error as Error).name}`,
      text: '',
      contentType: '',
    };
  }
}

// ------------------------------------------------------------------------------------------- Test

const LEAKS: [string, RegExp][] = [
  ['stack trace', / {4}at /],
  ['source location', /\.ts:\d/],
  ['SQL', /\bSELECT\b|\bINSERT INTO\b|\bUPDATE "|\bDELETE FROM\b/],
  ['prisma', /prisma/i],
  ['node_modules', /node_modules/],
];

let database: TestDatabase;
let gw: TestGateway;
let adminToken: string;
let seeds: Seed[];

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gw = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), env: QUERY_LIMITS });
  adminToken = (await signIn(gw.url, EMAILS.platform)).token;
  const event = (
    await sqlRows<{ id: string; venueId: string; organizationId: string }>(
      database.url,
      'SELECT id, "venueId", "organizationId" FROM "Event" ORDER BY id LIMIT 1',
    )
  )[0]!;
  seeds = loadSeeds({ eventId: event.id, venueId: event.venueId, orgId: event.organizationId });
});

afterAll(async () => {
  await gw?.stop();
  await database?.drop();
});

describe('subscriptions over HTTP', () => {
  it('a subscription sent as an HTTP request is refused as a client error, not an INTERNAL_SERVER_ERROR', async () => {
    for (const query of [
      'subscription S($productId: ID!) { inventoryChanged(productId: $productId) { productId available } }',
      'subscription { seatsChanged(eventId: "00000000-0000-0000-0000-000000000000") { eventId } }',
    ]) {
      const reply = await gql(gw.url, query, { productId: '1' });
      const codes = (reply.body.errors ?? []).map((e) => e.extensions?.code);
      expect(codes.length, reply.text).toBeGreaterThan(0);
      expect(codes, reply.text).not.toContain('INTERNAL_SERVER_ERROR');
      expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
      expect(reply.status, reply.text).toBeLessThan(500);
    }
  });
});

describe('request-level errors raised before execution', () => {
  it('a bad persistedQuery extension is a client error with a client code, not an INTERNAL_SERVER_ERROR', async () => {
    const query = '{ __typename }';
    const cases = {
      'unsupported version': { persistedQuery: { version: 2, sha256Hash: 'abc' } },
      'hash does not match the query': { persistedQuery: { version: 1, sha256Hash: '0'.repeat(64) } },
    };
    const outcomes: Record<string, string> = {};
    for (const [label, extensions] of Object.entries(cases)) {
      const response = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, extensions }),
      });
      const body = JSON.parse(await response.text()) as { errors?: { extensions?: { code?: string } }[] };
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      outcomes[label] = `${response.status} ${codes.join(',')}`;
    }
    // Persisted queries are off: the APQ protocol answers PERSISTED_QUERY_NOT_SUPPORTED with HTTP 200 so
    // that clients fall back to sending the full query; a 400 would be a client error too.
    for (const outcome of Object.values(outcomes)) {
      expect(outcome, JSON.stringify(outcomes)).toMatch(/^(200 PERSISTED_QUERY_NOT_SUPPORTED|400 [A-Z_]+)$/);
      expect(outcome, JSON.stringify(outcomes)).not.toContain('INTERNAL_SERVER_ERROR');
    }
  });
});

describe('fuzz', () => {
  // A correctness run, not a speed claim: the bound only stops a hung run, on two cores shared with other files.
  it(`${TOTAL} malformed, oversized, nested and mutated requests: no 5xx, no crash, every error coded, no leaks`, {
    timeout: 300_000,
  }, async () => {
    const processErrors: unknown[] = [];
    const onError = (error: unknown): void => {
      processErrors.push(error);
    };
    process.on('uncaughtException', onError);
    process.on('unhandledRejection', onError);
    const base = gw.url.replace(/\/graphql$/, '');
    const started = performance.now();
    const byCategory = new Map<string, number>();
    const byStatus = new Map<string, number>();
    const byCode = new Map<string, number>();
    const problems: string[] = [];
    const internal: string[] = [];
    const requests = Array.from({ length: TOTAL }, (_, i) => i);
    try {
      await pool(requests, CONCURRENCY, async (index) => {
        const request = generate(index, seeds, adminToken);
        const outcome = await send(base, gw.port, request);
        const bump = (map: Map<string, number>, key: string): void => {
          map.set(key, (map.get(key) ?? 0) + 1);
        };
        bump(byCategory, request.category);
        bump(byStatus, String(outcome.status));
        const where =
          `#${index} [${request.category}] ${request.method} ${request.path.slice(0, 80)} ` +
          `${String(request.body ?? request.raw ?? '').slice(0, 160)}`;
        if (typeof outcome.status === 'number' && outcome.status >= 500)
          problems.push(`HTTP ${outcome.status}: ${where} -> ${outcome.text.slice(0, 300)}`);
        if (typeof outcome.status === 'string' && request.category !== 'raw-http' && request.category !== 'oversized')
          problems.push(`${outcome.status}: ${where}`);
        const sent = `${request.path}${JSON.stringify(request.headers)}${request.body ?? ''}${request.raw ?? ''}`;
        for (const [label, pattern] of LEAKS) {
          if (pattern.test(outcome.text) && !pattern.test(sent))
            problems.push(`${label} in response: ${where} -> ${outcome.text.slice(0, 400)}`);
        }
        if (outcome.contentType.includes('json') && outcome.text) {
          let body: unknown;
          try {
            body = JSON.parse(outcome.text);
          } catch {
            problems.push(`invalid JSON response: ${where} -> ${outcome.text.slice(0, 200)}`);
            return;
          }
          const errors = (body as { errors?: { extensions?: { code?: unknown } }[] } | null)?.errors;
          for (const error of Array.isArray(errors) ? errors : []) {
            const code = error?.extensions?.code;
            if (typeof code !== 'string')
              problems.push(`error without extensions.code: ${where} -> ${JSON.stringify(error).slice(0, 300)}`);
            bump(byCode, String(code));
            // Malformed input is the client's fault: it must never surface as our internal error.
            if (code === 'INTERNAL_SERVER_ERROR') {
              problems.push(`INTERNAL_SERVER_ERROR: ${where} -> ${JSON.stringify(error).slice(0, 200)}`);
              if (internal.length < 3) internal.push(`${where} -> ${JSON.stringify(error).slice(0, 200)}`);
            }
          }
        }
      });
    } finally {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    }
    const seconds = (performance.now() - started) / 1000;
    const sorted = (map: Map<string, number>): Record<string, number> =>
      Object.fromEntries([...map].sort((a, b) => b[1] - a[1]));
    console.log(
      `[fuzz] ${TOTAL} requests in ${seconds.toFixed(1)} s (seed ${SEED}, concurrency ${CONCURRENCY})\n` +
        `[fuzz] by category: ${JSON.stringify(sorted(byCategory))}\n` +
        `[fuzz] by status:   ${JSON.stringify(sorted(byStatus))}\n` +
        `[fuzz] by code:     ${JSON.stringify(sorted(byCode))}\n` +
        (internal.length ? `[fuzz] INTERNAL_SERVER_ERROR examples:\n  ${internal.join('\n  ')}\n` : '') +
        (problems.length
          ? `[fuzz] ${problems.length} problems, first 15:\n  ${problems.slice(0, 15).join('\n  ')}\n`
          : ''),
    );

    expect(processErrors.map(String)).toEqual([]);
    expect(problems.slice(0, 20)).toEqual([]);
    expect([...byStatus.keys()].filter((s) => /^5\d\d$/.test(s))).toEqual([]);
    expect(TOTAL).toBeGreaterThanOrEqual(5_000);

    // Still serving: health, a normal query, a signed-in query.
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const page = dataOf(
      await gql<{ products: { totalCount: number; nodes: { id: string }[] } }>(
        gw.url,
        '{ products(first: 3) { totalCount nodes { id } } }',
      ),
    );
    expect(page.products.nodes).toHaveLength(3);
    const me = dataOf(
      await gql<{ me: { role: string } }>(gw.url, '{ me { role } }', {}, { authorization: `Bearer ${adminToken}` }),
    );
    expect(me.me.role).toBe('PLATFORM_ADMIN');
  });
});
