// Attacks by class against a production gateway (NODE_ENV=production, child process, real PostgreSQL
// and Redis). Each is refused with a coded error or answered within its bound, and /healthz, asked
// while the attack is in flight, answers within 100 ms.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EMAILS, sqlRows } from '../accounts/kit.ts';
import { SEED_PASSWORD } from '../support/kit.ts';
import { codes, freshIp, post, startProductionGateway, underAttack, type ProductionGateway } from './attack-kit.ts';

const HEALTH_MS = 100;
const RESPONSE_MAX_BYTES = 30_000;
const REQUESTS_PER_IP = 60;

let gw: ProductionGateway;
let adminToken: string;
let orgAdminToken: string;
let eventId: string;
let venueId: string;

beforeAll(async () => {
  gw = await startProductionGateway(inject('adminDatabaseUrl'), inject('templateDatabase'), inject('redisUrl'), {
    RESPONSE_MAX_BYTES: String(RESPONSE_MAX_BYTES),
    RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: String(REQUESTS_PER_IP),
    RATE_LIMIT_WRITES_PER_MINUTE: '10',
    RATE_LIMIT_IP_MULTIPLIER: '1',
    RATE_LIMIT_SIGNINS_PER_MINUTE: '1000',
  });
  adminToken = await tokenOf(EMAILS.platform);
  orgAdminToken = await tokenOf(EMAILS.orgA);
  const row = (
    await sqlRows<{ id: string; venueId: string }>(
      gw.database.url,
      'SELECT e.id, e."venueId" FROM "Event" e ' +
        'ORDER BY (SELECT count(*) FROM "Seat" s WHERE s."eventId" = e.id) DESC LIMIT 1',
    )
  )[0]!;
  eventId = row.id;
  venueId = row.venueId;
}, 90_000);

async function tokenOf(email: string): Promise<string> {
  const answer = await post(gw.url, {
    query: `mutation { signIn(email: "${email}", password: "${SEED_PASSWORD}") { token } }`,
  });
  return (answer.body!.data as { signIn: { token: string } }).signIn.token;
}

afterAll(async () => {
  await gw?.stop();
});

/** Sends the attack with /healthz beside it; checks health, returns the answer. */
async function attack(payload: unknown, headers: Record<string, string> = {}) {
  const { result, healthMs } = await underAttack(gw.base, () => post(gw.url, payload, headers));
  const query = (payload as { query?: string }).query ?? '';
  console.log(
    `[attack] ${query.replace(/\s+/g, ' ').slice(0, 70)}: ${result.ms.toFixed(0)} ms, ` +
      `health +${healthMs.toFixed(0)} ms`,
  );
  expect(healthMs, `healthz took ${healthMs.toFixed(0)} ms during the attack`).toBeLessThan(HEALTH_MS);
  expect(result.status, result.text.slice(0, 300)).toBeLessThan(500);
  expect(codes(result)).not.toContain('INTERNAL_SERVER_ERROR');
  return result;
}

const SPACES = ' '.repeat(90_000);

describe('class 1: error text and work proportional to input', () => {
  it('a huge bad literal, in the query text, is refused quickly with a short message', async () => {
    for (const query of [
      `{ products(first: "${SPACES}") { totalCount } }`,
      `{ event(id: "00000000-0000-0000-0000-000000000000") { seats(status: "${SPACES}") { id } } }`,
    ]) {
      const answer = await attack({ query });
      expect(codes(answer).length).toBeGreaterThan(0);
      for (const error of answer.body!.errors!) expect(error.message.length).toBeLessThan(400);
    }
  });

  it('huge bad variables (an Int, an enum graphql-js suggests names for) get short messages', async () => {
    for (const [query, variables] of [
      ['query ($n: Int) { products(first: $n) { totalCount } }', { n: ' '.repeat(900_000) }],
      ['query ($s: ProductSort) { products(sort: $s) { totalCount } }', { s: `${' '.repeat(450_000)}PRICE_AS` }],
    ] as const) {
      const answer = await attack({ query, variables });
      expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.body!.errors![0]!.message.length).toBeLessThan(400);
      expect(answer.text).not.toMatch(/did you mean/i);
    }
  });

  it('an answer over RESPONSE_MAX_BYTES is RESPONSE_TOO_LARGE (a whole seat map, 3 product pages)', async () => {
    const pages = Array.from(
      { length: 3 },
      (_, i) => `p${i}: products(first: 100) { nodes { id name sku description } }`,
    );
    for (const query of [
      `{ event(id: "${eventId}") { seats { id section row number price status } } }`,
      `{ ${pages.join(' ')} }`,
    ]) {
      const answer = await attack({ query });
      const found = codes(answer);
      expect(found.length, answer.text.slice(0, 200)).toBeGreaterThan(0);
      expect(new Set(found), answer.text.slice(0, 200)).toEqual(new Set(['RESPONSE_TOO_LARGE']));
      expect(answer.text.length).toBeLessThan(RESPONSE_MAX_BYTES);
    }
  });
});

describe('class 2 and 3: amplification through cycles and page sizes', () => {
  it('a cycle through unpaginated and paginated lists is QUERY_TOO_COSTLY before execution', async () => {
    for (const query of [
      `{ event(id: "${eventId}") { seats { event { seats(section: "A") { id } } } } }`,
      `{ venue(id: "${venueId}") { events(first: 100) { venue { events(first: 100) { seats { id } } } } } }`,
      '{ categories { products(first: 100) { nodes { category { products(first: 100) { nodes { id } } } } } } }',
    ]) {
      const answer = await attack({ query });
      expect(codes(answer), answer.text.slice(0, 300)).toEqual(['QUERY_TOO_COSTLY']);
    }
  });

  it('page sizes from variables count as their value, and as the largest page when absent', async () => {
    const query =
      'query ($n: Int) { products(first: $n) { nodes { category { products(first: $n) { nodes { category { ' +
      'products(first: $n) { nodes { id } } } } } } } } }';
    for (const variables of [{ n: 100 }, {}]) {
      expect(codes(await attack({ query, variables }))).toEqual(['QUERY_TOO_COSTLY']);
    }
    // Small pages make the same shape affordable.
    const small = await attack({ query, variables: { n: 3 } });
    expect(small.body?.errors).toBeUndefined();
  });

  it('aliases and fragments are counted where they are used', async () => {
    const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: products(first: $n) { ...P }`).join(' ');
    const fragment = 'fragment P on ProductConnection { nodes { category { products(first: $n) { nodes { id } } } } }';
    const query = `query ($n: Int) { ${aliases} } ${fragment}`;
    expect(codes(await attack({ query, variables: { n: 40 } }))).toEqual(['QUERY_TOO_COSTLY']);
  });
});

describe('class 5: limits count requests before parsing, and fields', () => {
  it('malformed JSON and unparsable queries are charged by the per-IP gate', async () => {
    const ip = freshIp();
    const answers = [];
    for (let i = 0; i < REQUESTS_PER_IP + 5; i++)
      answers.push(await post(gw.url, i % 2 ? '{"query": "{ products(' : { query: '{ products(' }, {}, ip));
    const last = answers.at(-1)!;
    expect(last.status).toBe(429);
    expect(codes(last)).toEqual(['RATE_LIMITED']);
    expect(answers.slice(0, REQUESTS_PER_IP).every((a) => a.status === 400)).toBe(true);
  });

  it('aliased mutations are charged once per root field', async () => {
    const headers = { authorization: `Bearer ${adminToken}` };
    const many = Array.from(
      { length: 11 },
      (_, i) => `s${i}: setStock(productId: "${i + 1}", onHand: 5) { available }`,
    );
    const answer = await attack({ query: `mutation { ${many.join(' ')} }` }, headers);
    expect(codes(answer)).toEqual(['RATE_LIMITED']);
    // Nothing ran: the charge is made before execution.
  });

  it('at most one signIn or signUp per request', async () => {
    for (const query of [
      `mutation { a: signIn(email: "${EMAILS.customer}", password: "x") { token } ` +
        `b: signIn(email: "${EMAILS.customer}", password: "y") { token } }`,
      `mutation { signUp(email: "n1@x.test", password: "${SEED_PASSWORD}", displayName: "N") ` +
        `signIn(email: "${EMAILS.customer}", password: "y") { token } }`,
    ]) {
      expect(codes(await attack({ query }))).toEqual(['BAD_REQUEST']);
    }
  });
});

describe('class 6: the lockout cannot be turned against the owner', () => {
  it('guessing from one address locks that address out; the owner signs in from theirs', async () => {
    for (const email of [EMAILS.platform, EMAILS.orgB]) {
      const attacker = freshIp();
      const guess = { query: `mutation { signIn(email: "${email}", password: "not-the-password") { token } }` };
      for (let i = 0; i < 5; i++) expect(codes(await post(gw.url, guess, {}, attacker))).toEqual(['UNAUTHENTICATED']);
      const { result, healthMs } = await underAttack(gw.base, () => post(gw.url, guess, {}, attacker));
      expect(healthMs).toBeLessThan(HEALTH_MS);
      expect(codes(result)).toEqual(['ACCOUNT_LOCKED']);
      // The right password from the attacker's address is refused too; from the owner's it works.
      const right = { query: `mutation { signIn(email: "${email}", password: "${SEED_PASSWORD}") { token } }` };
      expect(codes(await post(gw.url, right, {}, attacker))).toEqual(['ACCOUNT_LOCKED']);
      const owner = await post(gw.url, right, {}, freshIp());
      expect(owner.body?.errors, owner.text).toBeUndefined();
    }
  });
});

describe('class 7: input PostgreSQL refuses is BAD_USER_INPUT, and never logged as an error', () => {
  it('NUL characters and out-of-range numbers', async () => {
    // Another user than the write-limit test's, whose write budget is spent.
    const headers = { authorization: `Bearer ${orgAdminToken}` };
    const cases: [string, Record<string, unknown>][] = [
      ['query ($s: String) { products(filter: { search: $s }) { totalCount } }', { s: 'batik\u0000' }],
      [
        'mutation ($e: String!) { signIn(email: $e, password: "whatever-password") { token } }',
        { e: 'a\u0000@x.test' },
      ],
      ['query ($a: String) { auditLog(action: $a) { id } }', { a: '\u0000' }],
      ['mutation ($p: Decimal!) { updateProduct(id: "1", input: { price: $p }) { id } }', { p: '999999999999999.99' }],
      ['mutation ($n: Int!) { setStock(productId: "1", onHand: $n) { available } }', { n: 2 ** 31 }],
    ];
    const before = gw.child.stdout().length;
    for (const [query, variables] of cases) {
      const answer = await attack({ query, variables }, headers);
      expect(codes(answer), `${query} ${answer.text.slice(0, 300)}`).toEqual(['BAD_USER_INPUT']);
    }
    const logged = gw.child.stdout().slice(before);
    expect(logged).not.toMatch(/"level":50/);
  });
});

describe('class 8: exposure', () => {
  it('/metrics is not on the public port, however the path is spelt; it is on METRICS_PORT', async () => {
    for (const path of [
      '/metrics',
      '/graphql/../metrics',
      '/graphql/%2e%2e/metrics',
      '/%6Detrics',
      '//metrics',
      '/./metrics',
    ]) {
      const response = await fetch(`${gw.base}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text()).not.toContain('cachegate_');
    }
    const internal = await fetch(`http://127.0.0.1:${gw.metricsPort}/metrics`);
    expect(internal.status).toBe(200);
    expect(await internal.text()).toContain('cachegate_graphql_requests_total');
  });

  it('security headers and Vary: Authorization on every answer', async () => {
    const answers = [
      await fetch(`${gw.base}/healthz`),
      await fetch(`${gw.base}/nowhere`),
      await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ products(first: 1) { totalCount } }' }),
      }),
      await fetch(gw.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
    ];
    for (const response of answers) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
      expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect(response.headers.get('vary') ?? '').toMatch(/authorization/i);
    }
  });
});
