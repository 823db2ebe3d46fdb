// A start that cannot succeed prints one line naming the cause and what to do, and exits 1: the embedded
// PostgreSQL's port taken by another program, its data folder in use by a running PostgreSQL (a second
// `npm start` in the same checkout), the HTTP port taken, and a DATABASE_URL nobody answers. Each runs
// the real entry point as a child process, with real listeners holding the ports.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getFreePort } from '../support/free-port.ts';
import { failedStartLine, spawnGateway, type ChildGateway } from './child-gateway.ts';

const started: ChildGateway[] = [];
const listeners: Server[] = [];
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cachegate-start-failure-'));
  // Reachable by the unprivileged postgres user when the tests run as root, so the folder is used as is.
  await chmod(scratch, 0o755);
});

afterAll(async () => {
  for (const gateway of started) gateway.killGroup();
  await Promise.all(listeners.map((server) => new Promise((resolve) => server.close(resolve))));
  await rm(scratch, { recursive: true, force: true });
});

/** A port held by a plain TCP listener on every interface, as another program would hold it. */
async function takenPort(): Promise<number> {
  const port = await getFreePort();
  const server = createServer((socket) => socket.destroy());
  listeners.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', resolve);
  });
  return port;
}

function start(env: Record<string, string>): ChildGateway {
  const gateway = spawnGateway({ SEED_SCALE: 'small', LOG_LEVEL: 'warn', ...env });
  started.push(gateway);
  return gateway;
}

describe.concurrent('a start that cannot succeed says why in one line', () => {
  it('the embedded PostgreSQL port is taken: names the port and EMBEDDED_PG_PORT', async () => {
    const port = await takenPort();
    const gateway = start({
      PORT: String(await getFreePort()),
      EMBEDDED_PG_DIR: join(scratch, 'port-taken'),
      EMBEDDED_PG_PORT: String(port),
    });
    const line = await failedStartLine(gateway, 30_000);
    expect(line).toMatch(/^cachegate: could not start: /);
    expect(line).toContain(`port ${port} is taken`);
    expect(line).toContain('EMBEDDED_PG_PORT');
  }, 40_000);

  it('the data folder is in use by a running PostgreSQL: says so, with the port and both settings', async () => {
    // What a first `npm start` leaves while it runs: a postmaster.pid naming a live process.
    const dir = join(scratch, 'in-use');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'PG_VERSION'), '18\n');
    await writeFile(join(dir, 'postmaster.pid'), `${process.pid}\n${dir}\n`);
    const port = await getFreePort();
    const gateway = start({
      PORT: String(await getFreePort()),
      EMBEDDED_PG_DIR: dir,
      EMBEDDED_PG_PORT: String(port),
    });
    const line = await failedStartLine(gateway, 30_000);
    expect(line).toContain('already running');
    expect(line).toContain(`port ${port}`);
    expect(line).toContain('EMBEDDED_PG_DIR');
    expect(line).toContain('EMBEDDED_PG_PORT');
  }, 40_000);

  it('the HTTP port is taken: names the port and PORT', async () => {
    const port = await takenPort();
    const gateway = start({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: inject('databaseUrl') });
    const line = await failedStartLine(gateway, 30_000);
    expect(line).toContain(`port ${port}`);
    expect(line).toContain('set PORT');
  }, 40_000);

  it('nothing answers at DATABASE_URL: says it cannot reach PostgreSQL, without the password', async () => {
    const port = await getFreePort();
    const gateway = start({
      PORT: String(await getFreePort()),
      DATABASE_URL: `postgresql://cachegate:secret-pw@127.0.0.1:${port}/cachegate`,
    });
    const line = await failedStartLine(gateway, 30_000);
    expect(line).toContain(`cannot reach the PostgreSQL server of DATABASE_URL`);
    expect(line).toContain(`postgresql://cachegate:***@127.0.0.1:${port}/cachegate`);
    expect(line).toContain('DATABASE_URL');
    expect(line).not.toContain('secret-pw');
  }, 40_000);
});
