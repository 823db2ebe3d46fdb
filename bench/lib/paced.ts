// Fixed-rate load that is honest about latency: see paced-worker.ts (open loop, evenly spaced sends,
// latency from each request's due time). autocannon's `overallRate` is not that: it gives each
// connection a per-second quota, fired back to back at the start of every second, and then multiplies
// each slow answer into synthetic samples at a 1 ms interval whatever the rate. The throughput runs keep
// autocannon; only the fixed-rate runs use this.
import { Worker } from 'node:worker_threads';
import type { LoopStats } from '../servers/ipc.ts';
import type { ChildServer } from './children.ts';
import { cpuSeconds, runQueueSeconds } from './cpu.ts';
import type { LoadResult } from './load.ts';
import type { PacedInput, PacedOutput } from './paced-worker.ts';

export interface PacedResult extends LoadResult {
  p999: number;
  /** How late requests left after their due time, ms: near 0 when the generator kept its schedule. */
  sendLag: PacedOutput['sendLag'];
  slowSlices: PacedOutput['slowSlices'];
  generatorGaps: PacedOutput['generatorGaps'];
}

export async function runPaced(
  url: string,
  bodies: readonly string[],
  options: { rate: number; seconds: number; connections: number },
): Promise<PacedResult> {
  if (bodies.length === 0) throw new Error('no request bodies');
  const input: PacedInput = { url, bodies: [...bodies], timeoutSeconds: 10, ...options };
  // Node 20 workers ignore --import in execArgv: register tsx inside the worker, then load the module.
  const entry = new URL('./paced-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: input });
  try {
    const out = await new Promise<PacedOutput>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`paced load worker exited (code ${code})`)));
    });
    return {
      requests: out.requests,
      seconds: out.seconds,
      rps: out.seconds > 0 ? out.requests / out.seconds : 0,
      p50: out.latency.p50,
      p90: out.latency.p90,
      p99: out.latency.p99,
      p999: out.latency.p999,
      max: out.latency.max,
      non2xx: out.non2xx,
      graphqlErrors: out.graphqlErrors,
      socketErrors: out.socketErrors,
      timeouts: out.timeouts,
      sendLag: out.sendLag,
      slowSlices: out.slowSlices,
      generatorGaps: out.generatorGaps,
    };
  } finally {
    await worker.terminate();
  }
}

/** A paced run plus what the server process saw meanwhile: its own CPU per request, its loop and GCs. */
export interface FixedRateRow extends PacedResult {
  rate: number;
  /** The server process's own CPU time per request (/proc), microseconds. */
  cpuMicrosPerRequest: number;
  /** Milliseconds the server's event-loop thread was runnable but waited for a CPU during the run. */
  runQueueMs: number;
  loop: LoopStats | null;
}

export async function fixedRate(
  server: ChildServer,
  bodies: readonly string[],
  options: { rate: number; seconds: number; connections: number },
): Promise<FixedRateRow> {
  await server.loopStats(); // starts (or restarts) the child's own loop watch for this run
  const pid = server.pid!;
  const cpuBefore = cpuSeconds(pid);
  const waitBefore = runQueueSeconds(pid);
  const result = await runPaced(server.url, bodies, options);
  const cpuMicrosPerRequest = ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, result.requests);
  const runQueueMs = (runQueueSeconds(pid) - waitBefore) * 1000;
  return { ...result, rate: options.rate, cpuMicrosPerRequest, runQueueMs, loop: await server.loopStats() };
}

const ms2 = (n: number): string => n.toFixed(2);

/** One line for the logs. */
export function describeFixedRate(row: FixedRateRow): string {
  const gc = row.loop?.gc.minor;
  const otherGc = Object.entries(row.loop?.gc ?? {})
    .filter(([kind]) => kind !== 'minor')
    .map(([kind, { count, ms, maxMs }]) => `${kind} ${count} (${ms} ms, longest ${maxMs})`);
  return (
    `${row.rate}/s asked, ${row.rps.toFixed(0)} got: p50 ${ms2(row.p50)} p90 ${ms2(row.p90)} p99 ${ms2(row.p99)} ` +
    `p99.9 ${ms2(row.p999)} max ${ms2(row.max)} ms, send lag p99 ${ms2(row.sendLag.p99)} ms, ` +
    `errors ${row.non2xx + row.graphqlErrors + row.socketErrors + row.timeouts}, ` +
    `server ${row.cpuMicrosPerRequest.toFixed(1)} µs CPU/req, waited ${row.runQueueMs.toFixed(0)} ms for a CPU, ` +
    `loop delay max ${row.loop?.delay.max ?? 'n/a'} ms, ` +
    `scavenges ${gc ? `${gc.count} (${gc.ms} ms, longest ${gc.maxMs})` : 'n/a'}` +
    `${otherGc.length ? `, ${otherGc.join(', ')}` : ''}; ` +
    `slow 100 ms slices [at ms, slowest ms] ${JSON.stringify(row.slowSlices)}, ` +
    `generator gaps [at ms, ms] ${JSON.stringify(row.generatorGaps)}`
  );
}
