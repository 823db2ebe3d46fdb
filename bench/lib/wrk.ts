// Closed-loop load from wrk (Debian's `wrk` 4.1, C with LuaJIT; `npm run bench` installs it through
// scripts/bench.sh), for runs where the load generator must leave CPU to the servers: autocannon is
// JavaScript and needs most of a core for itself at these rates. One thread, the same connections as
// autocannon; bodies cycled and every answer checked by wrk-bodies.lua.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuSeconds } from './cpu.ts';
import type { LoadResult } from './load.ts';

export interface WrkResult extends LoadResult {
  /** wrk's own CPU time per request, microseconds. */
  generatorCpuMicrosPerRequest: number;
}

export function wrkAvailable(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version prints its usage and exits 1: installed all the same
    return (error as { status?: number }).status === 1;
  }
}

export async function runWrk(
  url: string,
  bodies: readonly string[],
  options: { connections: number; seconds: number },
): Promise<WrkResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cachegate-wrk-'));
  try {
    const file = path.join(dir, 'bodies.txt');
    writeFileSync(file, `${bodies.join('\n')}\n`);
    const script = new URL('./wrk-bodies.lua', import.meta.url).pathname;
    const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', script, url];
    const child = spawn('wrk', [...args, '--', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let cpu = 0;
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    // Sample wrk's CPU time until just before it exits (a finished process's /proc entry is gone).
    const sampler = setInterval(() => {
      try {
        cpu = cpuSeconds(child.pid!);
      } catch {
        // exited
      }
    }, 100);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearInterval(sampler);
    const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${out.slice(-500)}`);
    const r = JSON.parse(line.slice('WRK_RESULT '.length)) as Record<string, number>;
    const seconds = r.durationUs! / 1e6;
    return {
      requests: r.requests!,
      seconds,
      rps: r.requests! / seconds,
      p50: r.p50!,
      p90: r.p90!,
      p99: r.p99!,
      max: r.max!,
      non2xx: r.non2xx!,
      graphqlErrors: r.graphqlErrors!,
      socketErrors: r.socketErrors!,
      timeouts: r.timeouts!,
      generatorCpuMicrosPerRequest: (cpu * 1e6) / Math.max(1, r.requests!),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
