// Brute-force protection for sign-in (src/accounts/lockout.ts), against real Redis and PostgreSQL:
// - 5 failed sign-ins from one address lock the account for that address: the 6th attempt is
//   ACCOUNT_LOCKED (HTTP 429, Retry-After, extensions.retryAfter), also with the right password, while
//   the owner with the right password from another address still signs in;
// - another account from another address still signs in;
// - one address cycling through accounts (each under 5 failures) is refused with RATE_LIMITED once it
//   reaches LOCKOUT_MAX_FAILURES_PER_IP failures;
// - the audit log holds SIGN_IN_FAILED and LOCKOUT rows for the account;
// - a lock expires after LOCKOUT_SECONDS.
// Client addresses are simulated with TRUST_PROXY=true and X-Forwarded-For.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, useTestGateway, type TestGateway } from '../support/gateway.ts';
import { EMAILS, codesOf, errorOf, fromIp, sqlRows } from './kit.ts';
import { SEED_PASSWORD, dataOf, gql, signIn, signInReply, sleep, type Reply } from '../support/kit.ts';

const MAX_FAILURES = 5;
const MAX_FAILURES_PER_IP = 8;
const LOCK_SECONDS = 1800;
const WRONG = 'definitely-not-the-password';

let database: TestDatabase;
let gw: TestGateway;

const customer = (n: number): string => `customer${n}@cachegate.test`;

async function userId(email: string): Promise<string> {
  const rows = await sqlRows<{ id: string }>(database.url, 'SELECT id FROM "User" WHERE email = $1', [email]);
  expect(rows).toHaveLength(1);
  return rows[0]!.id;
}

/** HTTP 429, Retry-After equal to extensions.retryAfter, which is > 0 and at most `maxSeconds`. */
function expectRetryLater(reply: Reply<unknown>, code: 'ACCOUNT_LOCKED' | 'RATE_LIMITED', maxSeconds: number): number {
  const error = errorOf(reply, code);
  expect(reply.status).toBe(429);
  const retryAfter = error.extensions?.retryAfter;
  expect(typeof retryAfter).toBe('number');
  expect(retryAfter as number).toBeGreaterThan(0);
  expect(retryAfter as number).toBeLessThanOrEqual(maxSeconds);
  expect(reply.headers.get('retry-after')).toBe(String(retryAfter));
  expect(reply.body.data ?? null).toBeNull();
  expect(typeof error.extensions?.requestId).toBe('string');
  return retryAfter as number;
}

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gw = await startTestGateway({
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    env: {
      TRUST_PROXY: 'true',
      LOCKOUT_MAX_FAILURES: String(MAX_FAILURES),
      LOCKOUT_MAX_FAILURES_PER_IP: String(MAX_FAILURES_PER_IP),
      LOCKOUT_SECONDS: String(LOCK_SECONDS),
    },
  });
});

afterAll(async () => {
  await gw?.stop();
  await database?.drop();
});

describe('account lockout', () => {
  it('the 6th attempt after 5 failures is ACCOUNT_LOCKED (429 + Retry-After) from that IP, not elsewhere', async () => {
    const ip = fromIp('10.1.0.1');
    for (let attempt = 1; attempt <= MAX_FAILURES; attempt++) {
      const reply = await signInReply(gw.url, EMAILS.customer, WRONG, ip);
      const error = errorOf(reply, 'UNAUTHENTICATED');
      expect(error.message).toBe('email or password is wrong');
      expect(reply.status).toBe(200);
    }
    const sixth = await signInReply(gw.url, EMAILS.customer, WRONG, ip);
    const retryAfter = expectRetryLater(sixth, 'ACCOUNT_LOCKED', LOCK_SECONDS);
    expect(retryAfter).toBeGreaterThan(LOCK_SECONDS - 60);

    // The lock is checked before the password: the right one is refused too from that address, also under
    // another spelling of the same email.
    expectRetryLater(await signInReply(gw.url, EMAILS.customer, SEED_PASSWORD, ip), 'ACCOUNT_LOCKED', LOCK_SECONDS);
    expectRetryLater(
      await signInReply(gw.url, '  Customer1@CacheGate.TEST ', SEED_PASSWORD, ip),
      'ACCOUNT_LOCKED',
      LOCK_SECONDS,
    );
    // The lockout cannot be turned against the owner: the right password from their own address works.
    await signIn(gw.url, EMAILS.customer, SEED_PASSWORD, fromIp('10.1.0.99'));
  });

  it('a different account from another IP still signs in', async () => {
    const signedIn = await signIn(gw.url, customer(2), SEED_PASSWORD, fromIp('10.1.0.2'));
    const me = dataOf(await gql<{ me: { id: string } | null }>(gw.url, '{ me { id } }', {}, signedIn.headers));
    expect(me.me?.id).toBe(signedIn.userId);
  });

  it('a successful sign-in clears the account failures (4 failures, success, 4 failures: not locked)', async () => {
    const ip = fromIp('10.1.0.4');
    for (let i = 0; i < MAX_FAILURES - 1; i++)
      errorOf(await signInReply(gw.url, customer(9), WRONG, ip), 'UNAUTHENTICATED');
    await signIn(gw.url, customer(9), SEED_PASSWORD, fromIp('10.1.0.5'));
    const ip2 = fromIp('10.1.0.6');
    for (let i = 0; i < MAX_FAILURES - 1; i++)
      errorOf(await signInReply(gw.url, customer(9), WRONG, ip2), 'UNAUTHENTICATED');
    await signIn(gw.url, customer(9), SEED_PASSWORD, fromIp('10.1.0.7'));
  });

  it(`one IP cycling through accounts is RATE_LIMITED after ${MAX_FAILURES_PER_IP} failures, none locked`, async () => {
    const ip = fromIp('10.1.0.3');
    const accounts = [3, 4, 5, 6].map(customer); // 2 failures each: 8 in all, every account under its own limit
    for (const email of accounts) {
      for (let i = 0; i < 2; i++) errorOf(await signInReply(gw.url, email, WRONG, ip), 'UNAUTHENTICATED');
    }
    // The address is now refused whatever it tries: a wrong password, the right one, an unknown email.
    expectRetryLater(await signInReply(gw.url, customer(7), WRONG, ip), 'RATE_LIMITED', LOCK_SECONDS);
    expectRetryLater(await signInReply(gw.url, customer(7), SEED_PASSWORD, ip), 'RATE_LIMITED', LOCK_SECONDS);
    expectRetryLater(await signInReply(gw.url, 'nobody-here@cachegate.test', WRONG, ip), 'RATE_LIMITED', LOCK_SECONDS);
    // The accounts it tried are not locked: they sign in from elsewhere.
    for (const [i, email] of accounts.entries()) await signIn(gw.url, email, SEED_PASSWORD, fromIp(`10.1.1.${i + 1}`));
    // Another address is not affected.
    await signIn(gw.url, customer(7), SEED_PASSWORD, fromIp('10.1.0.8'));
  });

  it('the audit log has SIGN_IN_FAILED and LOCKOUT rows for the locked account (SQL, auditLog query)', async () => {
    const id = await userId(EMAILS.customer);
    const rows = await sqlRows<{ action: string; n: number }>(
      database.url,
      `SELECT action, count(*)::int AS n FROM "AuditLog" WHERE "actorId" = $1 GROUP BY action`,
      [id],
    );
    const counts = Object.fromEntries(rows.map((r) => [r.action, r.n]));
    // Exactly the 5 real failures: the refused attempts during the lock are not password checks.
    expect(counts).toMatchObject({ SIGN_IN_FAILED: MAX_FAILURES, LOCKOUT: 1 });
    // One sign-in: the owner's, from another address, during the lock.
    expect(counts.SIGN_IN).toBe(1);
    const lockout = await sqlRows<{ targetType: string; targetId: string }>(
      database.url,
      `SELECT "targetType", "targetId" FROM "AuditLog" WHERE action = 'LOCKOUT' AND "actorId" = $1`,
      [id],
    );
    expect(lockout).toEqual([{ targetType: 'User', targetId: id }]);

    // Per-IP failures are audited per account too (2 each), without a LOCKOUT.
    for (const n of [3, 4, 5, 6]) {
      const other = await sqlRows<{ action: string; n: number }>(
        database.url,
        `SELECT action, count(*)::int AS n FROM "AuditLog"
          WHERE "actorId" = $1 AND action IN ('SIGN_IN_FAILED', 'LOCKOUT') GROUP BY action`,
        [await userId(customer(n))],
      );
      expect(other).toEqual([{ action: 'SIGN_IN_FAILED', n: 2 }]);
    }

    const admin = await signIn(gw.url, EMAILS.platform, SEED_PASSWORD, fromIp('10.1.0.200'));
    const log = dataOf(
      await gql<{ lockouts: { actorId: string; action: string }[]; failures: { actorId: string }[] }>(
        gw.url,
        `{ lockouts: auditLog(action: "LOCKOUT", first: 100) { action actorId targetType targetId }
           failures: auditLog(action: "SIGN_IN_FAILED", first: 100) { actorId } }`,
        {},
        admin.headers,
      ),
    );
    expect(log.lockouts.filter((e) => e.actorId === id)).toEqual([
      { action: 'LOCKOUT', actorId: id, targetType: 'User', targetId: id },
    ]);
    expect(log.failures.filter((e) => e.actorId === id)).toHaveLength(MAX_FAILURES);
    // No entry ever names the user by email.
    const emails = await sqlRows<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM "AuditLog" WHERE row_to_json("AuditLog")::text ILIKE '%@cachegate.test%'`,
    );
    expect(emails[0]!.n).toBe(0);
  });
});

describe('lock expiry', () => {
  let short: TestGateway;
  beforeAll(async () => {
    short = await startTestGateway({
      databaseUrl: database.url,
      redisUrl: inject('redisUrl'),
      env: { TRUST_PROXY: 'true', LOCKOUT_SECONDS: '2', LOCKOUT_MAX_FAILURES_PER_IP: String(MAX_FAILURES_PER_IP) },
    });
  });
  afterAll(async () => short?.stop());

  it('a locked account signs in again once LOCKOUT_SECONDS have passed', async () => {
    const ip = fromIp('10.2.0.1');
    for (let i = 0; i < MAX_FAILURES; i++)
      errorOf(await signInReply(short.url, customer(8), WRONG, ip), 'UNAUTHENTICATED');
    expectRetryLater(await signInReply(short.url, customer(8), SEED_PASSWORD, ip), 'ACCOUNT_LOCKED', 2);
    await sleep(2_300);
    const signedIn = await signIn(short.url, customer(8), SEED_PASSWORD, fromIp('10.2.0.2'));
    expect(dataOf(await gql<{ me: { id: string } }>(short.url, '{ me { id } }', {}, signedIn.headers)).me.id).toBe(
      signedIn.userId,
    );
  });
});

describe('lockout under a concurrent burst', () => {
  const burstGateway = useTestGateway(() => ({
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    env: { LOCKOUT_MAX_FAILURES: '5', LOCKOUT_MAX_FAILURES_PER_IP: '1000' },
  }));

  it('30 concurrent wrong sign-ins get at most 5 password checks; the rest are ACCOUNT_LOCKED', async () => {
    const burst = burstGateway();
    const email = customer(10);
    const replies = await Promise.all(Array.from({ length: 30 }, () => signInReply(burst.url, email, WRONG)));
    const codes = replies.map((r) => codesOf(r)[0]);
    const checked = codes.filter((c) => c === 'UNAUTHENTICATED').length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 'ACCOUNT_LOCKED').length).toBe(30 - checked);
    const [row] = await sqlRows<{ failures: string }>(
      database.url,
      `SELECT count(*) AS failures FROM "AuditLog" a JOIN "User" u ON u.id = a."actorId"
       WHERE u.email = $1 AND a.action = 'SIGN_IN_FAILED'`,
      [email],
    );
    expect(Number(row?.failures)).toBeLessThanOrEqual(5);
  });
});
