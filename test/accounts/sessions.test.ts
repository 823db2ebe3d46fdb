// Sessions (src/accounts/sessions.ts), against real Redis and PostgreSQL:
// - signUp creates an account and answers the same for a taken email; its first signIn works; a second
//   signIn opens a second session; me.sessions lists both with the right `current` flags; revokeSession
//   ends the other one (and only the owner's sessions);
// - signOut takes effect on every instance at once (two gateways sharing Redis and the database);
// - sessions survive redis-server being stopped (PostgreSQL write-through), a new signIn works while it
//   is down, and everything still works once it is back;
// - a token never appears in Redis (or PostgreSQL) in clear: only its SHA-256, in the key.
import type { Redis } from '../../src/redis/connection.ts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { EMAILS, errorOf, gatewayConnected, sha256Hex, sqlRows } from './kit.ts';
import {
  SEED_PASSWORD,
  bearer,
  dataOf,
  gql,
  keysMatching,
  rawRedis,
  signIn,
  type Headers,
  waitUntil,
} from '../support/kit.ts';

const ME = /* GraphQL */ `
  query Me { me { id email role sessions { id current createdAt lastSeenAt expiresAt userAgent } } }
`;
const SIGN_UP = /* GraphQL */ `
  mutation SignUp($email: String!, $password: String!, $displayName: String!) {
    signUp(email: $email, password: $password, displayName: $displayName)
  }
`;

interface SessionRow {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
}
interface MeData {
  me: { id: string; email: string; role: string; sessions: SessionRow[] } | null;
}

let database: TestDatabase;

const me = async (url: string, headers: Headers) => dataOf(await gql<MeData>(url, ME, {}, headers)).me;
const meId = async (url: string, headers: Headers) =>
  dataOf(await gql<{ me: { id: string } | null }>(url, '{ me { id } }', {}, headers)).me?.id ?? null;

/** Every key under the prefix with its value(s) as text. */
const REVOKE = 'mutation R($id: ID!) { revokeSession(id: $id) }';
/** revokeSession's answer: true when a session of the viewer's was ended. */
const revoke = async (url: string, id: string, headers: Headers): Promise<boolean> =>
  dataOf(await gql<{ revokeSession: boolean }>(url, REVOKE, { id }, headers)).revokeSession;

async function dumpPrefix(redis: Redis, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of await keysMatching(redis, `${prefix}:*`)) {
    const type = await redis.type(key);
    let value = '';
    if (type === 'string') value = (await redis.get(key)) ?? '';
    else if (type === 'set') value = (await redis.smembers(key)).join('\n');
    else if (type === 'hash') value = JSON.stringify(await redis.hgetall(key));
    else if (type === 'list') value = (await redis.lrange(key, 0, -1)).join('\n');
    else if (type === 'zset') value = (await redis.zrange(key, 0, -1, 'WITHSCORES')).join('\n');
    out.set(key, value);
  }
  return out;
}

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
});
afterAll(async () => database?.drop());

describe('session lifecycle on one gateway', () => {
  let gw: TestGateway;
  let redis: Redis;
  const email = 'session.tester@example.test';
  const password = 'a-long-enough-password-42';
  let first: string;
  let second: string;
  let userId: string;

  beforeAll(async () => {
    gw = await startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl') });
    redis = rawRedis(inject('redisUrl'));
    await redis.connect();
  });
  afterAll(async () => {
    redis?.disconnect();
    await gw?.stop();
  });

  it('signUp creates the account (answering true, as for a taken email); its first sign-in works (me)', async () => {
    const variables = { email: 'Session.Tester@Example.test', password, displayName: 'Session Tester' };
    expect(dataOf(await gql<{ signUp: boolean }>(gw.url, SIGN_UP, variables)).signUp).toBe(true);
    // The same email again: the same answer, so sign-up tells nobody which emails have accounts.
    expect(dataOf(await gql<{ signUp: boolean }>(gw.url, SIGN_UP, variables)).signUp).toBe(true);
    const signedIn = await signIn(gw.url, email, password, { 'user-agent': 'agent-one' });
    expect(signedIn.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    first = signedIn.token;
    userId = signedIn.userId;
    const who = await me(gw.url, bearer(first));
    expect(who).toMatchObject({ id: userId, email, role: 'CUSTOMER' });
    expect(who!.sessions).toHaveLength(1);
    expect(who!.sessions[0]).toMatchObject({ current: true, userAgent: 'agent-one' });
  });

  it('signIn opens a second session; me.sessions lists both with the right current flags', async () => {
    second = (await signIn(gw.url, email, password, { 'user-agent': 'agent-two' })).token;
    expect(second).not.toBe(first);
    const viaSecond = await me(gw.url, bearer(second));
    expect(viaSecond!.sessions).toHaveLength(2);
    const currentOfSecond = viaSecond!.sessions.filter((s) => s.current);
    expect(currentOfSecond).toHaveLength(1);
    expect(currentOfSecond[0]!.userAgent).toBe('agent-two');
    const viaFirst = await me(gw.url, bearer(first));
    expect(viaFirst!.sessions.map((s) => s.id).sort()).toEqual(viaSecond!.sessions.map((s) => s.id).sort());
    expect(viaFirst!.sessions.find((s) => s.current)!.userAgent).toBe('agent-one');
    expect(viaFirst!.sessions.find((s) => s.current)!.id).not.toBe(currentOfSecond[0]!.id);
  });

  it('another user cannot revoke these sessions; revokeSession of the other one ends it', async () => {
    const sessions = (await me(gw.url, bearer(second)))!.sessions;
    const firstSessionId = sessions.find((s) => !s.current)!.id;
    const stranger = await signIn(gw.url, EMAILS.customer);
    expect(await revoke(gw.url, firstSessionId, stranger.headers)).toBe(false);
    expect(await meId(gw.url, bearer(first))).toBe(userId);
    // Anonymous: UNAUTHENTICATED.
    errorOf(await gql(gw.url, REVOKE, { id: firstSessionId }), 'UNAUTHENTICATED');

    expect(await revoke(gw.url, firstSessionId, bearer(second))).toBe(true);
    expect(await meId(gw.url, bearer(first))).toBeNull();
    const left = (await me(gw.url, bearer(second)))!.sessions;
    expect(left).toHaveLength(1);
    expect(left[0]!.current).toBe(true);
    // The revoked token is refused for everything that needs a user.
    errorOf(await gql(gw.url, 'mutation { signOut }', {}, bearer(first)), 'UNAUTHENTICATED');
  });

  it('a token is never in Redis or PostgreSQL in clear: only its sha256, in the session key', async () => {
    const tokenHash = sha256Hex(second);
    const entries = await dumpPrefix(redis, gw.cachePrefix);
    expect(entries.size).toBeGreaterThan(0);
    const sessionKey = `${gw.cachePrefix}:session:${tokenHash}`;
    expect(entries.has(sessionKey)).toBe(true);
    const entry = JSON.parse(entries.get(sessionKey)!) as Record<string, unknown>;
    expect(entry).toMatchObject({ userId, role: 'CUSTOMER' });
    expect(JSON.stringify(entry)).not.toContain(email);
    const pttl = await redis.pttl(sessionKey);
    expect(pttl).toBeGreaterThan(0);
    for (const token of [first, second]) {
      for (const [key, value] of entries) {
        expect(key, key).not.toContain(token);
        expect(value, key).not.toContain(token);
      }
    }
    // The revoked token's entry is gone from Redis.
    expect(entries.has(`${gw.cachePrefix}:session:${sha256Hex(first)}`)).toBe(false);
    // PostgreSQL holds the hash, never the token.
    const rows = await sqlRows<{ row: string; tokenHash: string }>(
      database.url,
      `SELECT row_to_json(s)::text AS row, s."tokenHash" FROM "Session" s WHERE s."userId" = $1`,
      [userId],
    );
    expect(rows.map((r) => r.tokenHash).sort()).toEqual([sha256Hex(first), tokenHash].sort());
    for (const row of rows) {
      expect(row.row).not.toContain(first);
      expect(row.row).not.toContain(second);
    }
  });

  it('signOut ends the current session', async () => {
    expect(dataOf(await gql<{ signOut: boolean }>(gw.url, 'mutation { signOut }', {}, bearer(second))).signOut).toBe(
      true,
    );
    expect(await meId(gw.url, bearer(second))).toBeNull();
    expect(await redis.exists(`${gw.cachePrefix}:session:${sha256Hex(second)}`)).toBe(0);
  });
});

describe('signOut on every instance at once', () => {
  let a: TestGateway;
  let b: TestGateway;

  beforeAll(async () => {
    const cachePrefix = randomPrefix();
    [a, b] = await Promise.all([
      startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix }),
      startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix }),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop()]);
  });

  it('a token from A works on B; after signOut on A it fails on B immediately, and on A', async () => {
    const session = await signIn(a.url, EMAILS.customer);
    // Use it on both, many times, so B has had every chance to keep something around.
    for (let i = 0; i < 3; i++) {
      expect(await meId(b.url, session.headers)).toBe(session.userId);
      expect(await meId(a.url, session.headers)).toBe(session.userId);
    }
    expect(dataOf(await gql<{ signOut: boolean }>(a.url, 'mutation { signOut }', {}, session.headers)).signOut).toBe(
      true,
    );
    // No waiting: the very next request on B is anonymous.
    expect(await meId(b.url, session.headers)).toBeNull();
    expect(await meId(a.url, session.headers)).toBeNull();
    errorOf(
      await gql(b.url, 'mutation { toggleWishlist(productId: "1") { count } }', {}, session.headers),
      'UNAUTHENTICATED',
    );
  });

  it('revokeSession on B ends a session created on A, on both', async () => {
    const one = await signIn(a.url, EMAILS.customer);
    const two = await signIn(b.url, EMAILS.customer);
    const sessions = (await me(a.url, one.headers))!.sessions;
    const oneId = sessions.find((s) => s.current)!.id;
    expect(await revoke(b.url, oneId, two.headers)).toBe(true);
    expect(await meId(a.url, one.headers)).toBeNull();
    expect(await meId(b.url, one.headers)).toBeNull();
    expect(await meId(a.url, two.headers)).toBe(two.userId);
  });
});

describe('sessions survive redis-server being stopped', () => {
  let redisServer: RedisServer;
  let gw: TestGateway;

  beforeAll(async () => {
    redisServer = await startRedis();
    gw = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url });
  });
  afterAll(async () => {
    // Stop only once both gateway connections are back (see the last describe for why).
    if (redisServer) await gatewayConnected(redisServer.url);
    await gw?.stop();
    await redisServer?.destroy();
  });

  it('a token keeps working while Redis is down, a new signIn works, and both work once it is back', async () => {
    const before = await signIn(gw.url, EMAILS.orgA);
    expect(await meId(gw.url, before.headers)).toBe(before.userId);
    const sessionKey = `${gw.cachePrefix}:session:${sha256Hex(before.token)}`;
    const probe = rawRedis(redisServer.url);
    await probe.connect();
    expect(await probe.exists(sessionKey)).toBe(1);
    probe.disconnect();

    await redisServer.stop();
    // Redis is gone (connection refused): the session is read from PostgreSQL.
    for (let i = 0; i < 3; i++) expect(await meId(gw.url, before.headers)).toBe(before.userId);
    const during = await signIn(gw.url, EMAILS.orgB);
    expect(await meId(gw.url, during.headers)).toBe(during.userId);
    const org = dataOf(
      await gql<{ myOrganization: { slug: string } | null }>(gw.url, '{ myOrganization { slug } }', {}, during.headers),
    );
    expect(org.myOrganization?.slug).toBe('penang-arts');

    await redisServer.start(); // empty: nothing was persisted
    expect(await meId(gw.url, before.headers)).toBe(before.userId);
    expect(await meId(gw.url, during.headers)).toBe(during.userId);
    // Once the gateway has reconnected, validation puts the PostgreSQL copy back into Redis.
    const back = rawRedis(redisServer.url);
    await back.connect();
    try {
      await waitUntil(
        async () => {
          await meId(gw.url, during.headers);
          return (await back.exists(`${gw.cachePrefix}:session:${sha256Hex(during.token)}`)) === 1;
        },
        15_000,
        'the session entry to be written back to Redis after it came back',
        250,
      );
    } finally {
      back.disconnect();
    }
    expect(await meId(gw.url, before.headers)).toBe(before.userId);

    // And signOut still ends it everywhere.
    expect(dataOf(await gql<{ signOut: boolean }>(gw.url, 'mutation { signOut }', {}, during.headers)).signOut).toBe(
      true,
    );
    expect(await meId(gw.url, during.headers)).toBeNull();
    // The seeded password still signs in (nothing was locked by the outage).
    await signIn(gw.url, EMAILS.orgB, SEED_PASSWORD);
  });

  it('signOut while Redis is down still takes effect (PostgreSQL is the source of truth)', async () => {
    const session = await signIn(gw.url, EMAILS.customer);
    expect(await meId(gw.url, session.headers)).toBe(session.userId);
    await redisServer.stop();
    try {
      expect(dataOf(await gql<{ signOut: boolean }>(gw.url, 'mutation { signOut }', {}, session.headers)).signOut).toBe(
        true,
      );
      expect(await meId(gw.url, session.headers)).toBeNull();
    } finally {
      await redisServer.start();
    }
    expect(await meId(gw.url, session.headers)).toBeNull();
  });
});

describe('shutdown while Redis is down', () => {
  it('stopping a gateway whose Redis is gone leaves no unhandled rejection', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    const redisServer = await startRedis();
    let gw: TestGateway | undefined;
    process.on('unhandledRejection', onRejection);
    try {
      gw = await startTestGateway({ databaseUrl: database.url, redisUrl: redisServer.url });
      await signIn(gw.url, EMAILS.customer);
      await redisServer.stop();
      await gw.stop();
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      process.off('unhandledRejection', onRejection);
      await redisServer.destroy();
    }
    expect(rejections.map((r) => (r instanceof Error ? r.message : String(r)))).toEqual([]);
  });
});
