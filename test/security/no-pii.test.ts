// No personal data or secrets in logs or in Redis (docs/ARCHITECTURE.md; src/infra/logger.ts,
// src/accounts/sessions.ts, src/limits/limiter-factory.ts). A realistic session runs on a gateway with
// log level 'debug' whose every log line is captured, over a private redis-server:
// signUp, signIn, a failed signIn, a signIn for an unknown email, me, toggleWishlist, a duplicate signUp,
// updateProduct and purgeCache as the platform admin, signOut, a revoked token.
// Then no log line, no Redis key, no Redis value and no pub/sub message contains the password, the
// email, the display name, a token, the password hash or a token hash - except the session entry's key
// (<prefix>:session:<sha256(token)>, also named by signOut's invalidation message), whose value holds ids
// and the role but no email or password.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/server/app.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { EMAILS, errorOf, gatewayConnected, sha256Hex, sqlRows } from '../accounts/kit.ts';
import { SEED_PASSWORD, bearer, dataOf, gql, rawRedis, signIn, signInReply } from '../support/kit.ts';

const EMAIL_AS_TYPED = 'Nur.Aisyah.Pii+Test@Example-Mail.test';
const EMAIL = EMAIL_AS_TYPED.toLowerCase();
const PASSWORD = 'Correct-Horse-Battery-Staple-77';
const WRONG_PASSWORD = 'Wrong-Horse-Battery-Staple-88';
const DISPLAY_NAME = 'Nur Aisyah binti Zulkifli';
const UNKNOWN_EMAIL = 'ghost.visitor.pii@example-mail.test';

const SIGN_UP =
  'mutation SignUp($email: String!, $password: String!, $displayName: String!) ' +
  '{ signUp(email: $email, password: $password, displayName: $displayName) }';

let database: TestDatabase;
let redisServer: RedisServer;
let gateway: Gateway;
let cachePrefix: string;
const logLines: string[] = [];
const pubsubMessages: string[] = [];
let subscriber: ReturnType<typeof rawRedis>;

/** The secrets of the session, by label; filled as the session runs. */
const secrets = new Map<string, string>();

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  redisServer = await startRedis();
  // Every message on every channel of this private Redis, for the whole session.
  subscriber = rawRedis(redisServer.url);
  await subscriber.connect();
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) =>
    pubsubMessages.push(`${channel} ${message}`),
  );
  await subscriber.psubscribe('*');

  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(line);
      callback();
    },
  });
  cachePrefix = randomPrefix();
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'debug',
    DATABASE_URL: database.url,
    REDIS_URL: redisServer.url,
    CACHE_PREFIX: cachePrefix,
    SEED_ON_EMPTY: 'false',
    RATE_LIMIT_READS_PER_MINUTE: '1000000',
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
    RATE_LIMIT_SIGNINS_PER_MINUTE: '1000000',
  });
  gateway = await startGateway(config, { logger: createLogger('debug', destination) });
});

afterAll(async () => {
  if (redisServer) await gatewayConnected(redisServer.url, 2_000);
  await gateway?.stop();
  subscriber?.disconnect();
  await redisServer?.destroy();
  await database?.drop();
});

/** Where each secret shows up in `texts`: [secret label, text label] pairs. */
function findSecrets(
  texts: Iterable<[string, string]>,
  except: (secretLabel: string, textLabel: string) => boolean = () => false,
): string[] {
  const found: string[] = [];
  for (const [textLabel, text] of texts) {
    const lower = text.toLowerCase();
    for (const [secretLabel, secret] of secrets) {
      if (except(secretLabel, textLabel)) continue;
      if (text.includes(secret) || lower.includes(secret.toLowerCase()))
        found.push(`${secretLabel} in ${textLabel}: ${text.slice(0, 300)}`);
    }
  }
  return found;
}

describe('a realistic session leaves no personal data behind', () => {
  it('runs the session', async () => {
    const url = gateway.url;
    secrets.set('password', PASSWORD);
    secrets.set('wrong password', WRONG_PASSWORD);
    secrets.set('email', EMAIL);
    secrets.set('email as typed', EMAIL_AS_TYPED);
    secrets.set('unknown email', UNKNOWN_EMAIL);
    secrets.set('display name', DISPLAY_NAME);
    secrets.set('seed password', SEED_PASSWORD);
    secrets.set('admin email', EMAILS.platform);

    const created = dataOf(
      await gql<{ signUp: boolean }>(url, SIGN_UP, {
        email: EMAIL_AS_TYPED,
        password: PASSWORD,
        displayName: DISPLAY_NAME,
      }),
    ).signUp;
    expect(created).toBe(true);
    // signUp opens no session: the first token comes from signing in.
    const signUp = await signIn(url, EMAIL, PASSWORD, { 'user-agent': 'pii-test-agent' });
    secrets.set('signUp token', signUp.token);
    secrets.set('signUp token hash', sha256Hex(signUp.token));

    const session = await signIn(url, EMAIL, PASSWORD);
    secrets.set('signIn token', session.token);
    secrets.set('signIn token hash', sha256Hex(session.token));

    errorOf(await signInReply(url, EMAIL, WRONG_PASSWORD), 'UNAUTHENTICATED');
    errorOf(await signInReply(url, UNKNOWN_EMAIL, WRONG_PASSWORD), 'UNAUTHENTICATED');
    // Inline literals instead of variables: the query text itself carries the secrets.
    errorOf(
      await gql(url, `mutation { signIn(email: "${EMAIL}", password: "${WRONG_PASSWORD}") { token } }`),
      'UNAUTHENTICATED',
    );
    // Requests that end in errors the gateway logs (masked or request-level), with the secrets in the query text.
    await gql(
      url,
      `subscription Leak { inventoryChanged(productId: "1") { productId } } # ${EMAIL} ${PASSWORD} ${DISPLAY_NAME}`,
    );
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `mutation { signIn(email: "${EMAIL}", password: "${PASSWORD}") { token } }`,
        extensions: { persistedQuery: { version: 2, sha256Hash: EMAIL } },
      }),
    });
    await gql(url, `{ product(id: "${EMAIL}") { id } }`);
    // A taken email gets the same answer as a new one (no account enumeration).
    expect(
      dataOf(
        await gql<{ signUp: boolean }>(url, SIGN_UP, { email: EMAIL, password: PASSWORD, displayName: DISPLAY_NAME }),
      ).signUp,
    ).toBe(true);

    const me = dataOf(
      await gql<{ me: { email: string; displayName: string } }>(
        url,
        '{ me { id email displayName role sessions { id current userAgent } wishlist { id } } }',
        {},
        session.headers,
      ),
    ).me;
    expect(me).toMatchObject({ email: EMAIL, displayName: DISPLAY_NAME });
    dataOf(
      await gql(url, 'mutation W($id: ID!) { toggleWishlist(productId: $id) { count } }', { id: '7' }, session.headers),
    );
    dataOf(await gql(url, '{ me { wishlist { id name } } }', {}, session.headers));
    dataOf(
      await gql(
        url,
        '{ products(first: 5, filter: { search: "a" }) { totalCount nodes { id name price { amount } } } }',
        {},
        session.headers,
      ),
    );

    const admin = await signIn(url, EMAILS.platform);
    secrets.set('admin token', admin.token);
    secrets.set('admin token hash', sha256Hex(admin.token));
    dataOf(
      await gql(
        url,
        'mutation U($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name } }',
        { id: '7', input: { name: 'Songket runner (renamed)' } },
        admin.headers,
      ),
    );
    dataOf(await gql(url, 'mutation { purgeCache(tags: ["Product", "Event"]) }', {}, admin.headers));
    dataOf(await gql(url, '{ auditLog(first: 20) { action actorId } cacheStats { mode } }', {}, admin.headers));

    expect(dataOf(await gql<{ signOut: boolean }>(url, 'mutation { signOut }', {}, bearer(signUp.token))).signOut).toBe(
      true,
    );
    expect(dataOf(await gql<{ me: unknown }>(url, '{ me { id } }', {}, bearer(signUp.token))).me).toBeNull();
    // A malformed and a forged token.
    dataOf(await gql(url, '{ me { id } }', {}, { authorization: `Bearer ${signUp.token}x` }));
    dataOf(await gql(url, '{ me { id } }', {}, { authorization: `Bearer ${'Z'.repeat(43)}` }));

    const users = await sqlRows<{ passwordHash: string }>(
      database.url,
      'SELECT "passwordHash" FROM "User" WHERE email = $1',
      [EMAIL],
    );
    expect(users).toHaveLength(1);
    const hash = users[0]!.passwordHash;
    secrets.set('password hash', hash);
    const parts = hash.split('$');
    secrets.set('password hash: salt', parts[4]!);
    secrets.set('password hash: key', parts[5]!);
    expect(parts[4]!.length).toBeGreaterThanOrEqual(16);
    expect(parts[5]!.length).toBeGreaterThanOrEqual(32);
  });

  it('no log line contains a secret (and debug lines were captured)', () => {
    expect(logLines.filter((l) => l.includes('"graphql operation"')).length).toBeGreaterThanOrEqual(15);
    expect(logLines.every((l) => l.startsWith('{'))).toBe(true);
    expect(findSecrets(logLines.map((line, i) => [`log line ${i + 1}`, line]))).toEqual([]);
  });

  it('no Redis key or value contains a secret, except the session entry key (its token hash)', async () => {
    const redis = rawRedis(redisServer.url);
    await redis.connect();
    const entries: [string, string][] = [];
    const sessionKeys: string[] = [];
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'COUNT', 1000); // every key of this private server, prefix or not
        cursor = next;
        for (const key of keys) {
          const type = await redis.type(key);
          let value: string;
          if (type === 'string') value = (await redis.get(key)) ?? '';
          else if (type === 'set') value = (await redis.smembers(key)).join('\n');
          else if (type === 'hash') value = JSON.stringify(await redis.hgetall(key));
          else if (type === 'list') value = (await redis.lrange(key, 0, -1)).join('\n');
          else if (type === 'zset') value = (await redis.zrange(key, 0, -1, 'WITHSCORES')).join('\n');
          else value = `(type ${type})`;
          entries.push([`key ${key}`, key], [`value of ${key}`, value]);
          if (key.startsWith(`${cachePrefix}:session:`)) sessionKeys.push(key);
        }
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
    expect(entries.length).toBeGreaterThan(10);
    // The live sessions are there, keyed by the token hash, and hold ids, the role and the member tier only.
    const liveKey = `${cachePrefix}:session:${secrets.get('signIn token hash')}`;
    expect(sessionKeys).toContain(liveKey);
    expect(sessionKeys).not.toContain(`${cachePrefix}:session:${secrets.get('signUp token hash')}`); // signed out
    const liveValue = entries.find(([label]) => label === `value of ${liveKey}`)![1];
    expect(Object.keys(JSON.parse(liveValue) as object).sort()).toEqual([
      'organizationId',
      'role',
      'sessionId',
      'tier',
      'touchedAt',
      'userId',
    ]);

    const isSessionKeyHash = (secretLabel: string, textLabel: string): boolean =>
      secretLabel.endsWith('token hash') &&
      textLabel.startsWith(`key ${cachePrefix}:session:`) &&
      textLabel.endsWith(secrets.get(secretLabel)!);
    expect(findSecrets(entries, isSessionKeyHash)).toEqual([]);
  });

  it('no pub/sub message between instances contains a secret, except a session entry key', () => {
    expect(pubsubMessages.length).toBeGreaterThan(0);
    // signOut's invalidation names the session entry's key (already visible as a key); nothing else may show.
    const withoutSessionKeys = pubsubMessages.map((m) =>
      m.replaceAll(new RegExp(`${cachePrefix}:session:[0-9a-f]{64}`, 'g'), '<session key>'),
    );
    expect(findSecrets(withoutSessionKeys.map((m, i) => [`message ${i + 1}`, m]))).toEqual([]);
  });

  it('the audit trail names users by id only', async () => {
    const rows = await sqlRows<{ row: string }>(database.url, 'SELECT row_to_json(a)::text AS row FROM "AuditLog" a');
    expect(rows.length).toBeGreaterThan(5);
    expect(findSecrets(rows.map((r, i) => [`audit row ${i + 1}`, r.row]))).toEqual([]);
  });
});
