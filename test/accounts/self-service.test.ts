// Account self-service (src/accounts/password-reset.ts, self-service.ts, sessions.ts) on two gateways
// sharing Redis and PostgreSQL, with a real local SMTP server (test/support/smtp-server.ts):
// - a password reset end to end: the same answer for a known and an unknown email, one mail (to the known
//   one only) read from the SMTP server, only the token's hash stored; the reset ends every session on both
//   instances, the old password fails, the new one works, and the used token is refused;
// - an expired token is refused and changes nothing;
// - changePassword ends the other sessions only; signOutEverywhere ends them all;
// - the per-user session cap ends the oldest; sessions show a coarse network, never the full address.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, signIn, signInReply, type Headers } from '../support/kit.ts';
import { startSmtpServer, type TestSmtpServer } from '../support/smtp-server.ts';
import { errorOf, sha256Hex, sqlRows } from './kit.ts';

let database: TestDatabase;
let smtp: TestSmtpServer;
let a: TestGateway;
let b: TestGateway;
const PASSWORD = 'first-password-123';
const SESSION_CAP = 3;

const REQUEST = 'mutation R($email: String!) { requestPasswordReset(email: $email) }';
const RESET =
  'mutation R($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }';
const ME = '{ me { id } }';

let sequence = 0;
/** A fresh account (signUp on A); returns its email. */
async function newAccount(): Promise<string> {
  const email = `self-${process.pid}-${++sequence}@example.test`;
  const reply = await gql(
    a.url,
    'mutation S($e: String!, $p: String!) { signUp(email: $e, password: $p, displayName: "Self") }',
    { e: email, p: PASSWORD },
  );
  expect(dataOf(reply).signUp).toBe(true);
  return email;
}

const signedIn = async (url: string, headers: Headers): Promise<boolean> =>
  dataOf(await gql<{ me: { id: string } | null }>(url, ME, {}, headers)).me !== null;

/** Asks for a reset and returns the token from the mail the SMTP server received. */
async function mailedToken(email: string): Promise<string> {
  const before = smtp.messages.filter((m) => m.to.includes(email)).length;
  expect(dataOf(await gql(b.url, REQUEST, { email }))).toEqual({ requestPasswordReset: true });
  const mail = await smtp.nextTo(email, before);
  expect(mail.subject).toBe('Reset your cachegate password');
  const token = /The reset token is: ([A-Za-z0-9_-]{43})/.exec(mail.text)?.[1];
  expect(token, mail.text).toBeDefined();
  expect(mail.text).toContain(`reset-password?token=${token}`);
  return token!;
}

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  smtp = await startSmtpServer();
  const options = {
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    cachePrefix: randomPrefix(),
    env: { SMTP_URL: smtp.url, SESSIONS_MAX_PER_USER: String(SESSION_CAP) },
  };
  [a, b] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await smtp?.stop();
  await database?.drop();
});

describe('password reset through a real SMTP server', () => {
  it('resets end to end: same answer for unknown emails, sessions end everywhere, the token works once', async () => {
    const email = await newAccount();
    const sessions = [await signIn(a.url, email, PASSWORD), await signIn(b.url, email, PASSWORD)];
    const unknown = `nobody-${process.pid}@example.test`;
    const answerForUnknown = await gql(a.url, REQUEST, { email: unknown });
    expect(dataOf(answerForUnknown)).toEqual({ requestPasswordReset: true });

    const token = await mailedToken(email);
    // Only the known address got mail; the database holds the token's hash, never the token.
    expect(smtp.messages.some((m) => m.to.includes(unknown))).toBe(false);
    const stored = await sqlRows<{ tokenHash: string }>(database.url, `SELECT "tokenHash" FROM "PasswordResetToken"`);
    expect(stored.map((r) => r.tokenHash)).toContain(sha256Hex(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const newPassword = 'second-password-456';
    expect(dataOf(await gql(a.url, RESET, { token, password: newPassword }))).toEqual({ resetPassword: true });
    for (const s of sessions) for (const url of [a.url, b.url]) expect(await signedIn(url, s.headers)).toBe(false);
    errorOf(await signInReply(b.url, email, PASSWORD), 'UNAUTHENTICATED');
    expect(await signedIn(b.url, (await signIn(b.url, email, newPassword)).headers)).toBe(true);
    // Used: refused, and the password stays the new one.
    errorOf(await gql(b.url, RESET, { token, password: 'third-password-789' }), 'BAD_USER_INPUT');
    errorOf(await signInReply(a.url, email, 'third-password-789'), 'UNAUTHENTICATED');
  });

  it('refuses an expired token and a superseded one, and changes nothing', async () => {
    const email = await newAccount();
    const expired = await mailedToken(email);
    await sqlRows(
      database.url,
      `UPDATE "PasswordResetToken" SET "expiresAt" = now() - interval '1 second' WHERE "tokenHash" = $1`,
      [sha256Hex(expired)],
    );
    errorOf(await gql(a.url, RESET, { token: expired, password: 'never-set-password' }), 'BAD_USER_INPUT');
    const superseded = await mailedToken(email);
    await mailedToken(email);
    errorOf(await gql(a.url, RESET, { token: superseded, password: 'never-set-password' }), 'BAD_USER_INPUT');
    errorOf(await gql(a.url, RESET, { token: 'not-a-token', password: 'never-set-password' }), 'BAD_USER_INPUT');
    expect(await signedIn(a.url, (await signIn(a.url, email, PASSWORD)).headers)).toBe(true);
  });
});

describe('password change, signing out everywhere, the session cap', () => {
  it('changePassword keeps this session and ends the others, on both instances', async () => {
    const email = await newAccount();
    const [current, other] = [await signIn(a.url, email, PASSWORD), await signIn(b.url, email, PASSWORD)];
    const CHANGE = 'mutation C($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }';
    errorOf(
      await gql(b.url, CHANGE, { c: 'wrong-password-000', n: 'changed-password-1' }, current.headers),
      'BAD_USER_INPUT',
    );
    expect(await signedIn(a.url, other.headers)).toBe(true);
    expect(dataOf(await gql(b.url, CHANGE, { c: PASSWORD, n: 'changed-password-1' }, current.headers))).toEqual({
      changePassword: true,
    });
    expect(await signedIn(a.url, current.headers)).toBe(true);
    expect(await signedIn(a.url, other.headers)).toBe(false);
    errorOf(await signInReply(a.url, email, PASSWORD), 'UNAUTHENTICATED');
  });

  it('signOutEverywhere ends every session, this one included', async () => {
    const email = await newAccount();
    const sessions = [await signIn(a.url, email, PASSWORD), await signIn(b.url, email, PASSWORD)];
    const reply = await gql(a.url, 'mutation { signOutEverywhere }', {}, sessions[0]!.headers);
    expect(dataOf(reply)).toEqual({ signOutEverywhere: 2 });
    for (const s of sessions) for (const url of [a.url, b.url]) expect(await signedIn(url, s.headers)).toBe(false);
  });

  it('beyond the cap the oldest session ends; sessions show a coarse network only', async () => {
    const email = await newAccount(); // signUp opens no session
    const oldest = await signIn(a.url, email, PASSWORD);
    const sessions = [];
    for (let i = 0; i < SESSION_CAP; i++) sessions.push(await signIn(i % 2 ? a.url : b.url, email, PASSWORD));
    expect(await signedIn(b.url, oldest.headers)).toBe(false);
    const rows = await sqlRows<{ live: number }>(
      database.url,
      `SELECT count(*)::int AS live FROM "Session" s JOIN "User" u ON u.id = s."userId"
        WHERE u.email = $1 AND s."revokedAt" IS NULL`,
      [email],
    );
    expect(rows[0]!.live).toBe(SESSION_CAP);
    for (const s of sessions) expect(await signedIn(b.url, s.headers)).toBe(true);
    const mine = dataOf(
      await gql<{ me: { sessions: { network: string | null }[] } }>(
        a.url,
        '{ me { sessions { network } } }',
        {},
        sessions[0]!.headers,
      ),
    ).me.sessions;
    expect(mine.map((s) => s.network)).toEqual(['127.0.0.0/24', '127.0.0.0/24', '127.0.0.0/24']);
    const anyFullAddress = await sqlRows(database.url, `SELECT 1 FROM "Session" WHERE network LIKE '%127.0.0.1%'`);
    expect(anyFullAddress).toEqual([]);
  });
});
