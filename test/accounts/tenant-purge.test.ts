// A tenant purge (src/accounts/tenant-cache.ts) on two gateways sharing Redis: organization A's admin
// purges A's events; B's cached lists and event entries stay in Redis, key for key, and B's next reads are
// served from them, while A's entries are gone and A's next list read fills new keys. cacheStats per
// organization counts the same keys from either instance. Naming another organization is refused.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, keysMatching, rawRedis, signIn, type Headers } from '../support/kit.ts';
import { EMAILS, errorOf, sqlRows } from './kit.ts';

let database: TestDatabase;
let one: TestGateway;
let two: TestGateway;
const org = {} as Record<'a' | 'b', { id: string; admin: Headers; events: string[] }>;
const LIST = `query L($o: ID!) { events(filter: { organizationId: $o, includeDrafts: true }, first: 50) {
  totalCount nodes { id name } } }`;
const EVENT = 'query E($id: ID!) { event(id: $id) { id name } }';
const STATS =
  'query S($o: ID) { cacheStats(organizationId: $o) { organization { organizationId entries listEntries } } }';

/** cacheStats for one organization, asked by its admin on `gw`. */
async function statsOf(gw: TestGateway, which: 'a' | 'b') {
  const reply = await gql<{ cacheStats: { organization: Record<string, unknown> } }>(
    gw.url,
    STATS,
    { o: org[which].id },
    org[which].admin,
  );
  return dataOf(reply).cacheStats.organization;
}

async function redisKeys(prefix: string): Promise<string[]> {
  const redis = rawRedis(inject('redisUrl'));
  await redis.connect();
  try {
    return (await keysMatching(redis, `${prefix}:*`)).sort();
  } finally {
    redis.disconnect();
  }
}

/**
 * The keys of one organization: its tenant-scoped lists and its events' entries. The response cache's
 * own keys (`:rc@`, answers and their index sets) are not entity entries.
 */
const keysOf = (keys: string[], which: 'a' | 'b') =>
  keys.filter(
    (k) =>
      !k.includes(':rc@') &&
      (k.includes(`t=${org[which].id}`) ||
        (k.includes(':Event@') && org[which].events.some((e) => k.endsWith(`:${e}`)))),
  );

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: randomPrefix() };
  [one, two] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
  for (const [which, slug, email] of [
    ['a', 'klcc-live', EMAILS.orgA],
    ['b', 'penang-arts', EMAILS.orgB],
  ] as const) {
    const id = (
      await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Organization" WHERE slug = $1`, [slug])
    )[0]!.id;
    const events = (
      await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Event" WHERE "organizationId" = $1`, [id])
    ).map((r) => r.id);
    org[which] = { id, admin: (await signIn(one.url, email)).headers, events };
  }
});

afterAll(async () => {
  await Promise.allSettled([one?.stop(), two?.stop()]);
  await database?.drop();
});

async function warm(which: 'a' | 'b'): Promise<void> {
  const { id, admin, events } = org[which];
  for (const gw of [one, two]) {
    dataOf(await gql(gw.url, LIST, { o: id }, admin));
    for (const event of events) dataOf(await gql(gw.url, EVENT, { id: event }));
  }
}

describe('tenant cache purge', () => {
  it("purging A's events leaves B's cached lists and entries in place, on both instances", async () => {
    expect(org.a.events.length).toBeGreaterThan(0);
    expect(org.b.events.length).toBeGreaterThan(0);
    await warm('a');
    await warm('b');
    const before = await redisKeys(one.cachePrefix);
    const bBefore = keysOf(before, 'b');
    const aBefore = keysOf(before, 'a');
    // B: a list, a count, and one entry per event; A likewise.
    expect(bBefore.length).toBe(2 + org.b.events.length);
    expect(aBefore.length).toBe(2 + org.a.events.length);
    expect(await statsOf(two, 'b')).toEqual({ organizationId: org.b.id, entries: org.b.events.length, listEntries: 2 });
    expect(await statsOf(one, 'a')).toEqual({ organizationId: org.a.id, entries: org.a.events.length, listEntries: 2 });
    errorOf(await gql(one.url, STATS, { o: org.b.id }, org.a.admin), 'FORBIDDEN');

    errorOf(
      await gql(
        one.url,
        'mutation P($o: ID) { purgeCache(tags: ["Event"], organizationId: $o) }',
        { o: org.b.id },
        org.a.admin,
      ),
      'FORBIDDEN',
    );
    const purged = await gql(
      one.url,
      'mutation P($o: ID) { purgeCache(tags: ["Event"], organizationId: $o) }',
      { o: org.a.id },
      org.a.admin,
    );
    expect(dataOf(purged)).toEqual({ purgeCache: true });

    const after = await redisKeys(one.cachePrefix);
    expect(keysOf(after, 'b')).toEqual(bBefore);
    // A's event entries are deleted; only its (now unreachable) list and count remain until their TTL.
    expect(keysOf(after, 'a')).toEqual(aBefore.filter((k) => k.includes(`t=${org.a.id}`)));
    expect(await statsOf(two, 'a')).toEqual({ organizationId: org.a.id, entries: 0, listEntries: 2 });
    expect(await statsOf(two, 'b')).toEqual({ organizationId: org.b.id, entries: org.b.events.length, listEntries: 2 });

    // B reads from what is cached on the other instance: no SQL, no new keys.
    two.sql.length = 0;
    dataOf(await gql(two.url, LIST, { o: org.b.id }, org.b.admin));
    for (const event of org.b.events) dataOf(await gql(two.url, EVENT, { id: event }));
    expect(two.sql.filter((s) => /"Event"/.test(s))).toEqual([]);
    // A's next list read misses on the other instance and files a new list and count under a new generation.
    two.sql.length = 0;
    dataOf(await gql(two.url, LIST, { o: org.a.id }, org.a.admin));
    expect(two.sql.filter((s) => /"Event"/.test(s)).length).toBeGreaterThan(0);
    const refilled = await redisKeys(one.cachePrefix);
    expect(keysOf(refilled, 'b')).toEqual(bBefore);
    expect(refilled.filter((k) => k.includes(`t=${org.a.id}`)).length).toBe(4);
  });
});
