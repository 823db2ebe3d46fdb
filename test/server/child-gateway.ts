// Runs the real entry point (`tsx src/main.ts`, what `npm start` runs) as a child process with a chosen
// environment, captures its output, and waits for it to be ready or to exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { sleep } from '../support/kit.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

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
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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
/**
 * SIGTERM, as a process manager sends it; expects an exit within 20 s, and (softly, so the caller's later
 * checks still run and report) that it was exit code 0.
 */
export async function terminateAndExpectCleanExit(gateway: ChildGateway): Promise<void> {
  gateway.terminate();
  const exit = await exitWithin(gateway, 20_000);
  expect(exit, 'still running 20 s after SIGTERM').toBeDefined();
  const output = `--- stderr ---\n${gateway.stderr()}\n--- stdout (tail) ---\n${gateway.stdout().slice(-3000)}`;
  expect.soft(exit, output).toEqual({ code: 0, signal: null });
}

/**
 * Waits for a start that must fail: exit code 1 within `ms`, and exactly one line on stderr, a message
 * rather than a stack trace. Returns that line.
 */
export async function failedStartLine(gateway: ChildGateway, ms: number): Promise<string> {
  const exit = await exitWithin(gateway, ms);
  const output = `${gateway.stderr()}\n${gateway.stdout()}`;
  expect(exit, `still running after ${ms} ms\n${output}`).toEqual({ code: 1, signal: null });
  const lines = gateway
    .stderr()
    .split('\n')
    .filter((line) => line.trim() !== '');
  expect(lines, gateway.stderr()).toHaveLength(1);
  expect(lines[0]).not.toMatch(/\bat \S+:\d+/); // a message, not a stack trace
  expect(lines[0]).not.toMatch(/undefined/);
  return lines[0]!;
}

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

/** pino's JSON lines from the captured stdout (lines that are not JSON are skipped). */
export function logLines(stdout: string): { level?: number; msg?: string; [key: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as { level?: number; msg?: string }];
      } catch {
        return [];
      }
    });
}

/** Pids of running processes whose command line mentions `text` (zombies excluded). */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && cmdline.replaceAll('\0', ' ').includes(text)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** GraphQL over HTTP POST to a gateway on 127.0.0.1:port. */
export async function postGraphQL(
  port: number,
  query: string,
  variables?: Record<string, unknown>,
): Promise<{
  status: number;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: any;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}
