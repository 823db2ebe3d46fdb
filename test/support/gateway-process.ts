// Runs the real entry point (`src/main.ts` through tsx, as `npm start` runs it) as a child process with a
// chosen environment, captures its output, and waits for it to be ready or to exit. No vitest import: the
// fault drills (drill/) use it too; test/server/child-gateway.ts adds the assertions tests need.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sleep } from './wait.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The node flags `npm start` runs the gateway with: package.json's `config.nodeFlags` (see the README). */
export function startFlags(): string[] {
  const manifest = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { config?: { nodeFlags?: string } };
  return (manifest.config?.nodeFlags ?? '').split(' ').filter(Boolean);
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildGateway {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (already resolved if it has). */
  exited: Promise<Exit>;
  hasExited(): boolean;
  /** SIGTERM to the tsx process (it forwards the signal to the gateway), as a process manager does. */
  terminate(): void;
  /** Last resort for cleanup: SIGKILL to the child's whole process group (tsx, node and anything they started). */
  killGroup(): void;
}

/**
 * The child gets only PATH and HOME from this process plus `env`: no DATABASE_URL, REDIS_URL or
 * anything else leaks in from the test runner's environment.
 */
export function spawnGateway(env: Record<string, string>): ChildGateway {
  // Exactly what `npm start` runs: node with tsx as an in-process loader, so signals reach the gateway directly.
  const child = spawn(process.execPath, [...startFlags(), '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so cleanup can kill tsx and the node process under it together
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) throw new Error('tsx did not start');
  const pid = child.pid;
  return {
    child,
    pid,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    hasExited: () => done,
    terminate: () => {
      if (!done) process.kill(pid, 'SIGTERM');
    },
    killGroup: () => {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    },
  };
}

/** Resolves with the exit, or with undefined if the process is still running after `ms`. */
export async function exitWithin(gateway: ChildGateway, ms: number): Promise<Exit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([gateway.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls GET http://127.0.0.1:port/readyz until it answers 200; fails early with the logs if the process exits. */
export async function waitUntilReady(gateway: ChildGateway, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gateway.hasExited()) {
      const exit = await gateway.exited;
      throw new Error(
        `the gateway exited (${JSON.stringify(exit)}) before it was ready\n--- stderr ---\n${gateway.stderr()}\n--- ` +
          `stdout (tail) ---\n${gateway.stdout().slice(-4000)}`,
      );
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the gateway was not ready within ${timeoutMs} ms\n--- stderr ---\n${gateway.stderr()}\n--- stdout (tail) ` +
          `---\n${gateway.stdout().slice(-4000)}`,
      );
    }
    await sleep(250);
  }
}
