// A throwaway redis-server for tests: no persistence, 127.0.0.1 only, a free port, daemonized with its
// pidfile, log and working dir in a temp dir. Stopping really kills the process, so tests can check how
// the gateway behaves when Redis goes away.
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './free-port.ts';
import { isPortOpen, isProcessAlive, killAndWaitSync, run, tailOf, withPortRetry } from './process-utils.ts';
import { waitUntil } from './wait.ts';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT */
  url: string;
  dir: string;
  /** SIGTERM by pidfile, then wait until the process is gone and the port is closed. */
  stop(): Promise<void>;
  /** Starts again on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
  /** Stops the server and removes its temp dir. */
  destroy(): Promise<void>;
  /** Synchronous last resort for process 'exit' handlers: SIGKILL, remove the dir. */
  killNow(): void;
  /**
   * Sends `signal` to the running server (fault drills: SIGSTOP freezes it, SIGCONT thaws it). After
   * SIGKILL it waits until the process is gone; `start()` brings an empty server back on the same port.
   */
  signal(signal: NodeJS.Signals): void;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

/** Sends PING over a raw socket; true on +PONG. */
export function pingRedis(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** The pid in the pidfile `redis.pid` of `dir`, once the server wrote it. */
export async function readPid(dir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(join(dir, 'redis.pid'), 'utf8')).trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts the daemon and resolves with its pid once it answers PING. */
async function launch(dir: string, port: number): Promise<number> {
  await rm(join(dir, 'redis.pid'), { force: true }); // left behind only if a previous run was SIGKILLed
  const log = join(dir, 'redis.log');
  await run('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'yes',
    '--pidfile',
    join(dir, 'redis.pid'),
    '--dir',
    dir,
    '--logfile',
    log,
  ]);
  // The pidfile is written after the port is bound, so it proves the server answering PING is ours
  // and not some other process that took the port.
  const ready = async (): Promise<boolean> => (await readPid(dir)) !== undefined && (await pingRedis(port));
  const failed = async (): Promise<string> => {
    await terminate(await readPid(dir), port).catch(() => undefined);
    const tail = await tailOf(log);
    return (
      `redis-server did not answer PING on port ${port} within ${START_TIMEOUT_MS} ms\n--- tail of ${log} ` +
      `---\n${tail}`
    );
  };
  await waitUntil(ready, START_TIMEOUT_MS, failed, 25);
  const pid = await readPid(dir);
  if (pid === undefined) throw new Error(`redis-server on port ${port} lost its pidfile`);
  return pid;
}

async function terminate(pid: number | undefined, port: number): Promise<void> {
  if (pid === undefined) return; // not running
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
  const gone = async (): Promise<boolean> => !isProcessAlive(pid) && !(await isPortOpen(port));
  const stillRunning = async (): Promise<string> =>
    `redis-server (pid ${pid}) still running ${STOP_TIMEOUT_MS} ms after SIGTERM`;
  await waitUntil(gone, STOP_TIMEOUT_MS, stillRunning, 25);
}

export async function startRedis(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cachegate-redis-'));
  try {
    let pid = 0;
    const startOn = async (p: number): Promise<number> => {
      pid = await launch(dir, p);
      return p;
    };
    const port = await withPortRetry(getFreePort, startOn);
    return serverHandle(dir, port, pid);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function serverHandle(dir: string, port: number, startedPid: number): RedisServer {
  // Kept in memory rather than re-read from the pidfile: killNow() runs where nothing can be awaited.
  let pid: number | undefined = startedPid;
  const stop = async (): Promise<void> => {
    await terminate(pid, port);
    pid = undefined;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    stop,
    async start() {
      pid = await launch(dir, port);
    },
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    killNow() {
      killAndWaitSync(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
    signal(signal) {
      if (pid === undefined) throw new Error('redis-server is not running');
      if (signal !== 'SIGKILL') {
        process.kill(pid, signal);
        return;
      }
      killAndWaitSync(pid, 'SIGKILL');
      pid = undefined;
    },
  };
}
