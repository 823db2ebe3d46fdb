// A throwaway PostgreSQL server for tests: initdb into a temp dir, listen on 127.0.0.1 at a free port,
// unix socket in that same dir. Durability is switched off (fsync, synchronous_commit, full_page_writes):
// the data lives only as long as the test run. As root (CI containers) initdb/pg_ctl must run as the
// `postgres` OS user, since both refuse to run as root (shared/OFFLINE-STACK.md).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './free-port.ts';
import { killAndWaitSync, run, tailOf, withPortRetry } from './process-utils.ts';

export interface PostgresOptions {
  /** Fixed port; by default a free one is picked (and re-picked if another process takes it first). */
  port?: number;
  /** Extra server settings, passed as `-c key=value`. */
  settings?: Record<string, string>;
}

export interface PostgresServer {
  port: number;
  host: '127.0.0.1';
  dir: string;
  /** postgresql://postgres@127.0.0.1:PORT/postgres (superuser, trust auth). */
  adminUrl: string;
  urlFor(database: string): string;
  /** Fast shutdown; keeps the data dir so `start()` brings the same data back. */
  stop(): Promise<void>;
  /** Starts again on the same port with the same data. */
  start(): Promise<void>;
  /** Stops the server and removes its temp dir. */
  destroy(): Promise<void>;
  /** Synchronous last resort for process 'exit' handlers: SIGQUIT the postmaster, remove the dir. */
  killNow(): void;
}

const START_TIMEOUT_S = 60;

const BASE_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
  shared_preload_libraries: '',
};

/** PG_BIN if set, else the highest-versioned /usr/lib/postgresql/<version>/bin with a pg_ctl (as scripts/test.sh). */
export function findPostgresBinDir(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(
      `no PostgreSQL server binaries under ${root}/*/bin; run "npm test" (scripts/test.sh installs them) or set PG_BIN`,
    );
  }
  return join(root, versions[0], 'bin');
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** initdb and pg_ctl refuse to run as root: go through runuser then. */
function asServerUser(program: string, args: string[]): Promise<unknown> {
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', program, ...args]) : run(program, args);
}

async function makeServerDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cachegate-pg-'));
  await chmod(dir, 0o755);
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    await chown(dir, uid, gid); // initdb, the log file and the unix socket are all written as postgres
  }
  return dir;
}

/** pg_ctl hands -o to /bin/sh, so each value is single-quoted. */
function serverOptions(dir: string, port: number, settings: Record<string, string>): string {
  const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const all: Record<string, string> = { ...BASE_SETTINGS, unix_socket_directories: dir, ...settings };
  return [`-p ${port}`, ...Object.entries(all).map(([k, v]) => `-c ${quote(`${k}=${v}`)}`)].join(' ');
}

async function pgCtlStart(bin: string, dir: string, port: number, settings: Record<string, string>): Promise<void> {
  const log = join(dir, 'server.log');
  const args = [
    '-D',
    join(dir, 'data'),
    '-l',
    log,
    '-w',
    '-t',
    String(START_TIMEOUT_S),
    '-o',
    serverOptions(dir, port, settings),
    'start',
  ];
  try {
    await asServerUser(join(bin, 'pg_ctl'), args);
  } catch (error) {
    // pg_ctl may time out with a postmaster still starting.
    await pgCtlStop(bin, dir, 'immediate').catch(() => undefined);
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `PostgreSQL did not start on port ${port}: ${message}\n--- tail of ${log} ---\n${await tailOf(log)}`,
    );
  }
}

async function pgCtlStop(bin: string, dir: string, mode: 'fast' | 'immediate'): Promise<void> {
  if (!existsSync(join(dir, 'data', 'postmaster.pid'))) return; // not running
  await asServerUser(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', mode, '-w', '-t', '60', 'stop']);
}

function postmasterPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined; // not running
  }
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = findPostgresBinDir();
  const settings = options.settings ?? {};
  const dir = await makeServerDir();
  try {
    await asServerUser(join(bin, 'initdb'), [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    const startOn = async (p: number): Promise<number> => {
      await pgCtlStart(bin, dir, p, settings);
      return p;
    };
    const port = options.port === undefined ? await withPortRetry(getFreePort, startOn) : await startOn(options.port);
    return serverHandle(bin, dir, port, settings);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function serverHandle(bin: string, dir: string, port: number, settings: Record<string, string>): PostgresServer {
  const urlFor = (database: string): string =>
    `postgresql://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  // Remembered while running: during a shutdown the pidfile may already be gone while the postmaster
  // is still writing into the data dir.
  let pid = postmasterPid(dir);
  const killNow = (): void => killAndWaitSync(pid, 'SIGQUIT'); // immediate shutdown, children included
  return {
    port,
    host: '127.0.0.1',
    dir,
    adminUrl: urlFor('postgres'),
    urlFor,
    async stop() {
      await pgCtlStop(bin, dir, 'fast');
      pid = undefined;
    },
    async start() {
      await pgCtlStart(bin, dir, port, settings);
      pid = postmasterPid(dir);
    },
    async destroy() {
      await pgCtlStop(bin, dir, 'fast').catch(killNow);
      pid = undefined;
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
    killNow() {
      killNow();
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
