// Assertions on child-process gateways, over the spawning helpers of test/support/gateway-process.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { exitWithin, type ChildGateway } from '../support/gateway-process.ts';

export {
  type ChildGateway,
  type Exit,
  exitWithin,
  ROOT,
  spawnGateway,
  waitUntilReady,
} from '../support/gateway-process.ts';

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
