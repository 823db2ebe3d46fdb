// CPU pinning for the throughput runs: the servers under test, PostgreSQL (the postmaster and every
// backend it forked) and redis-server share one core, the load generator (this process) gets the
// other, so the load generator never steals the servers' CPU. taskset is util-linux's; without it, or
// with fewer than two cores, nothing is pinned and the report says so.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The process and every process below it (PostgreSQL's backends, say). */
export function withDescendants(root: number): number[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
  const found = [root];
  for (let i = 0; i < found.length; i += 1)
    for (const pid of all) if (parentOf(pid) === found[i] && !found.includes(pid)) found.push(pid);
  return found;
}

function taskset(cpu: number, pid: number): void {
  execFileSync('taskset', ['-apc', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** Pins `servers` (and their descendants) to CPU 0 and this process to CPU 1; returns what was done. */
export function pinServersAndLoad(servers: number[]): string {
  if (os.cpus().length < 2) return 'not pinned: fewer than two CPUs';
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'not pinned: taskset (util-linux) is not installed';
  }
  const pids = servers.flatMap(withDescendants);
  for (const pid of pids) taskset(0, pid);
  taskset(1, process.pid);
  return (
    `pinned with taskset: ${pids.length} server, PostgreSQL and Redis processes on CPU 0, ` +
    'the load generator on CPU 1'
  );
}

/**
 * For a latency run: the measured server alone on CPU 0 with PostgreSQL and Redis, the servers that wait
 * for their turn on the load generator's CPU 1 (each idle server still wakes up for its timers, and on
 * the measured server's CPU each wake-up delays the requests queued behind it). Call only when pinned.
 */
export function spotlight(measured: number, waiting: number[]): void {
  for (const pid of waiting.flatMap(withDescendants)) taskset(1, pid);
  for (const pid of withDescendants(measured)) taskset(0, pid);
}

/** Puts the servers back on CPU 0 after `spotlight`. */
export function backOnServerCpu(pids: number[]): void {
  for (const pid of pids.flatMap(withDescendants)) taskset(0, pid);
}

/** Lets `pids` (and their descendants) and this process run on every CPU again; returns what was done. */
export function unpin(pids: number[]): string {
  const cpus = os.cpus().length;
  if (cpus < 2) return 'one CPU: nothing to unpin';
  try {
    for (const pid of [process.pid, ...pids.flatMap(withDescendants)])
      execFileSync('taskset', ['-apc', `0-${cpus - 1}`, String(pid)], { stdio: 'ignore' });
  } catch {
    return 'not unpinned: taskset (util-linux) is not installed';
  }
  return `not pinned: the servers, PostgreSQL, Redis and the load generator share all ${cpus} CPUs`;
}
