// `npm run bench:exec`: the execution path (every request with the response cache off) against the same
// path at EXECUTION_BASELINE_COMMIT, in the same run: one private PostgreSQL and redis-server, two
// cachegate children with RESPONSE_CACHE=false (this checkout, and the baseline commit from a temporary
// git worktree), pinned like `npm run bench`, interleaved over rounds. Warm product page only.
// Writes bench/results/exec-path.json and .md. BENCH_CPU_PROFILE=1 writes both children's V8 CPU
// profiles into bench/results/exec-profile.tmp/ (the same load on both, so they compare).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Redis } from 'ioredis';
import { addBaselineWorktree } from './lib/baseline-worktree.ts';
import { ChildServer } from './lib/children.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { pick, startInfraWithClient } from './lib/infra.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { pinServersAndLoad } from './lib/pinning.ts';
import { body, post, PRODUCT_PAGE } from './lib/queries.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SCALE = process.env.BENCH_SEED_SCALE === 'small' ? 'small' : 'full';
const HOT_IDS = SCALE === 'small' ? 100 : 200;
const PROFILE = process.env.BENCH_CPU_PROFILE === '1';
const RATE_LIMIT = '1000000000';
const NEW = 'execution-path';
const BASE = 'execution-path-baseline';

const log = (message: string): void =>
  console.error(`[bench:exec ${new Date().toISOString().slice(11, 19)}] ${message}`);

const cleanups: (() => unknown)[] = [];
const killers: (() => void)[] = [];
process.once('exit', () => {
  for (const kill of killers) kill();
});
async function cleanUp(): Promise<void> {
  for (const run of cleanups.reverse())
    await Promise.resolve()
      .then(run)
      .catch((e: unknown) => log(String(e)));
  killers.length = 0;
}
process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));

interface Measured extends LoadResult {
  /** The server's CPU time per answered request, in microseconds. */
  cpuMicrosPerRequest: number;
}

function median<T extends LoadResult>(rows: T[]): T {
  return [...rows].sort((a, b) => a.rps - b.rps)[Math.floor(rows.length / 2)]!;
}

async function main(): Promise<Record<string, unknown>> {
  const repo = new URL('..', import.meta.url).pathname;
  const worktree = addBaselineWorktree(repo);
  cleanups.push(() => worktree.remove());
  log(`baseline ${worktree.commit} checked out at ${worktree.root}`);
  const { infra, sql } = await startInfraWithClient(SCALE, cleanups, killers);
  const picks = await pick(sql, HOT_IDS, 1);
  const bodies = picks.hotIds.map((id) => body(PRODUCT_PAGE, { id: String(id) }));
  const env = (prefix: string): Record<string, string> => ({
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: infra.redis.url,
    CACHE_PREFIX: prefix,
    RESPONSE_CACHE: 'false',
    WARM_ON_START: 'false',
    KEY_HASH_SECRET: randomBytes(24).toString('hex'),
    RATE_LIMIT_READS_PER_MINUTE: RATE_LIMIT,
    RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: RATE_LIMIT,
  });
  const profileDir = (name: string) =>
    PROFILE ? { cpuProfileDir: new URL(`./results/exec-profile.tmp/${name}/`, import.meta.url).pathname } : {};
  const servers = await Promise.all([
    ChildServer.start({
      name: BASE,
      entry: 'cachegate.ts',
      root: worktree.root,
      env: env('base'),
      ...profileDir(BASE),
    }),
    ChildServer.start({ name: NEW, entry: 'cachegate.ts', env: env('exec'), ...profileDir(NEW) }),
  ]);
  for (const server of servers) {
    cleanups.push(() => server.stop());
    killers.push(() => server.kill());
  }
  const redis = new Redis(infra.redis.url, { maxRetriesPerRequest: 1 });
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  await redis.quit();
  const postmasterPid = Number(readFileSync(`${infra.pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
  const pinning = pinServersAndLoad([...servers.map((s) => s.pid!), redisPid, postmasterPid]);
  log(pinning);

  // Same answers from both, or the comparison means nothing.
  for (const id of picks.hotIds.slice(0, 5)) {
    const [a, b] = await Promise.all(servers.map((s) => post(s.url, PRODUCT_PAGE, { id: String(id) })));
    if (a!.errors || JSON.stringify(a!.data) !== JSON.stringify(b!.data))
      throw new Error(
        `answers differ for ${id}: ${JSON.stringify(a).slice(0, 200)} / ${JSON.stringify(b).slice(0, 200)}`,
      );
  }

  const rounds: Record<string, Measured[]> = { [BASE]: [], [NEW]: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternate who goes first, so neither always gets the quieter half of the round.
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      await runLoad(server.url, bodies, { connections: CONNECTIONS, amount: bodies.length });
      if (WARMUP_SECONDS > 0) await runLoad(server.url, bodies, { connections: CONNECTIONS, seconds: WARMUP_SECONDS });
      const cpuBefore = cpuSeconds(server.pid!);
      const load = await runLoad(server.url, bodies, { connections: CONNECTIONS, seconds: SECONDS });
      const cpuMicrosPerRequest = ((cpuSeconds(server.pid!) - cpuBefore) * 1e6) / Math.max(1, load.requests);
      const result = { ...load, cpuMicrosPerRequest };
      rounds[server.name]!.push(result);
      log(
        `round ${round + 1} ${server.name}: ${result.rps.toFixed(0)} req/s, ${cpuMicrosPerRequest.toFixed(0)} µs CPU/req, ` +
          `p50 ${result.p50} ms, ` +
          `p99 ${result.p99} ms, non-2xx ${result.non2xx}, GraphQL errors ${result.graphqlErrors}`,
      );
    }
  }
  const base = median(rounds[BASE]!);
  const ours = median(rounds[NEW]!);
  const cpu = (rows: Measured[]) =>
    [...rows].sort((a, b) => a.cpuMicrosPerRequest - b.cpuMicrosPerRequest)[Math.floor(rows.length / 2)]!
      .cpuMicrosPerRequest;
  return {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
    baselineCommit: worktree.commit,
    seedScale: SCALE,
    hotIds: picks.hotIds.length,
    knobs: { seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, connections: CONNECTIONS, rounds: ROUNDS },
    pinning,
    rounds,
    median: { [BASE]: base, [NEW]: ours },
    cpuMicrosPerRequest: { [BASE]: cpu(rounds[BASE]!), [NEW]: cpu(rounds[NEW]!) },
    ratio: {
      rps: ours.rps / base.rps,
      p50: ours.p50 / base.p50,
      p99: ours.p99 / base.p99,
      cpuPerRequest: cpu(rounds[NEW]!) / cpu(rounds[BASE]!),
    },
  };
}

function markdown(r: Record<string, any>): string {
  const row = (name: string): string => {
    const m = r.median[name] as LoadResult;
    const cpu = (r.cpuMicrosPerRequest[name] as number).toFixed(0);
    return `| ${name} | ${m.rps.toFixed(0)} | ${cpu} | ${m.p50} | ${m.p99} | ${m.non2xx} | ${m.graphqlErrors} |`;
  };
  return [
    `# execution path vs ${r.baselineCommit}: ${r.date}`,
    '',
    `Warm product page (bench/lib/queries.ts PRODUCT_PAGE, ${r.hotIds} ids), RESPONSE_CACHE=false on both, ` +
      `${r.knobs.connections} connections, ${r.knobs.seconds} s per server per round after a warm pass and ` +
      `${r.knobs.warmupSeconds} s of warm-up, median of ${r.knobs.rounds} interleaved rounds. ${r.pinning}.`,
    '',
    '| server | req/s | CPU µs/req (median) | p50 ms | p99 ms | non-2xx | GraphQL errors |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    row(BASE),
    row(NEW),
    '',
    `Execution path vs baseline: ${r.ratio.rps.toFixed(2)}x req/s, p99 ${r.ratio.p99.toFixed(2)}x, ` +
      `CPU per request ${r.ratio.cpuPerRequest.toFixed(2)}x (the server's own CPU time, from /proc: ` +
      'the steadier figure on a shared machine).',
    '',
  ].join('\n');
}

let exitCode = 0;
try {
  const results = await main();
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL('exec-path.json', dir), `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results);
  await writeFile(new URL('exec-path.md', dir), md);
  process.stdout.write(md);
} catch (error) {
  exitCode = 1;
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  await cleanUp();
}
process.exit(exitCode);
