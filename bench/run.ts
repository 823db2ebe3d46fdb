// `npm run bench`: cachegate against three baselines, all started in this run over one private
// PostgreSQL (seeded once) and one private redis-server, so the numbers compare like with like.
// Writes bench/results/latest.json and latest.md and prints the Markdown. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig } from '../src/config.ts';
import { startGateway, type Gateway } from '../src/server/app.ts';
import { SEED_PASSWORD } from '../prisma/seed.ts';
import { ChildServer, type ServerSpec } from './lib/children.ts';
import { pick, startInfra, type Infra, type Picks } from './lib/infra.ts';
import { runLoad, startLoad, type LoadResult } from './lib/load.ts';
import { describeFixedRate, fixedRate } from './lib/paced.ts';
import { pool } from '../test/support/pool.ts';
import { startFlags } from '../test/support/gateway-process.ts';
import { LISTING, PRODUCT_PAGE, SIGN_IN, UPDATE_PRICE, body, post } from './lib/queries.ts';
import { commandCounts, diffCounts, monitorDuring, totalOf } from './lib/redis-stats.ts';
import { backOnServerCpu, pinServersAndLoad, spotlight, unpin, withDescendants } from './lib/pinning.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { runWrk, wrkAvailable } from './lib/wrk.ts';
import { renderSvg } from './lib/chart.ts';
import { addBaselineWorktree, EXECUTION_BASELINE_COMMIT } from './lib/baseline-worktree.ts';
import {
  halfRateSection,
  renderMarkdown,
  renderWorkers,
  type HalfRateRow,
  type PhaseCount,
  type Results,
  type WriteCheck,
} from './lib/report.ts';

// ---- knobs -------------------------------------------------------------------------------------
function intEnv(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

const knobs = {
  seconds: intEnv('BENCH_SECONDS', 10, 1),
  connections: intEnv('BENCH_CONNECTIONS', 32, 1),
  warmupSeconds: intEnv('BENCH_WARMUP_SECONDS', 2, 0),
  rounds: intEnv('BENCH_ROUNDS', 1, 1),
  roundTripRequests: intEnv('BENCH_RT_REQUESTS', 2000, 100),
  writes: intEnv('BENCH_WRITES', 20, 1),
  hotIds: intEnv('BENCH_HOT_IDS', 200, 10),
  /** The product page over many ids (a); a1 is the same page on one id. */
  wideIds: intEnv('BENCH_WIDE_IDS', 1000, 10),
  /** 0 skips the fixed-rate runs at half of each server's measured maximum (p99 at half load). */
  halfRate: process.env.BENCH_HALF_RATE !== '0',
  /** Rounds of the fixed-rate runs (each server keeps its median-p99 round): one stall on a shared machine
   *  should not stand for a whole server. */
  halfRateRounds: intEnv('BENCH_HALF_RATE_ROUNDS', 3, 1),
  coldIds: 100,
  withNoL1: process.env.BENCH_NO_L1 !== '0',
  /** 0: no execution-path baseline (the response cache off at EXECUTION_BASELINE_COMMIT, from a temporary worktree). */
  withExecBaseline: process.env.BENCH_EXEC_BASELINE !== '0',
  seedScale: (process.env.BENCH_SEED_SCALE === 'small' ? 'small' : 'full') as 'small' | 'full',
  poolSize: intEnv('BENCH_DB_POOL', 10, 1),
  /** cachegate's per-minute request limits: the bench sends everything from one IP, so they are raised far
   *  out of reach. The limiter still runs (one Redis EVALSHA per request), only never refuses. */
  rateLimit: String(intEnv('BENCH_RATE_LIMIT', 1_000_000_000, 1)),
  /** 1: V8 CPU profile of the cachegate child into bench/results/cpu-profile.tmp/ (open it in Chrome DevTools). */
  cpuProfile: process.env.BENCH_CPU_PROFILE === '1',
  /** workers: only scenario f (WORKERS=1 against WORKERS=2), a quick check of that part alone. */
  only: (['workers', 'half-rate'] as const).find((only) => only === process.env.BENCH_ONLY),
};

/** Environment for every cachegate instance of the bench (child processes and in-process ones). */
const gatewayEnv = (): Record<string, string> => ({
  RATE_LIMIT_READS_PER_MINUTE: knobs.rateLimit,
  RATE_LIMIT_WRITES_PER_MINUTE: knobs.rateLimit,
  RATE_LIMIT_SIGNINS_PER_MINUTE: knobs.rateLimit,
  // Every bench request comes from 127.0.0.1: the per-address gate would measure itself.
  RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: knobs.rateLimit,
  // Production refuses to start without it; this run's keys live as long as the run.
  KEY_HASH_SECRET: BENCH_KEY_HASH_SECRET,
  // Scenario c counts the SQL of a cold cache: no warming at start.
  WARM_ON_START: 'false',
});
const BENCH_KEY_HASH_SECRET = randomBytes(24).toString('hex');

const OURS = 'cachegate';
const NO_L1 = 'cachegate-no-l1';
const ARC = 'apollo-response-cache';
const HAND = 'hand-rolled-redis';
const NONE = 'no-cache';
const EXEC = 'cachegate-no-response-cache';
const EXEC_BASE = `${EXEC}@${EXECUTION_BASELINE_COMMIT}`;
const MERC = 'mercurius-cache';
const RAW = 'raw-ceiling';

const log = (message: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- cleanup, also on failure and on Ctrl-C --------------------------------------------------
const cleanups: { name: string; run: () => Promise<void> }[] = [];
const killers: (() => void)[] = [];
process.once('exit', () => {
  for (const kill of killers.reverse()) {
    try {
      kill();
    } catch {
      // best effort: the process is exiting
    }
  }
});
let cleaningUp: Promise<void> | undefined;
function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const { name, run } of cleanups.reverse()) {
      await run().catch((error: unknown) => log(`cleanup of ${name} failed: ${String(error)}`));
    }
    killers.length = 0; // everything stopped cleanly: nothing left for the exit handler
  })();
  return cleaningUp;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping servers, PostgreSQL and Redis`);
    void cleanUp().finally(() => process.exit(130));
  });
}

// ---- scenario helpers --------------------------------------------------------------------------
interface Target {
  name: string;
  url: string;
  server: ChildServer;
}

const productBodies = (ids: readonly number[]): string[] => ids.map((id) => body(PRODUCT_PAGE, { id: String(id) }));
const listingBodies = (categoryIds: readonly number[], first = 20): string[] =>
  categoryIds.map((categoryId) => body(LISTING, { first, filter: { categoryId: String(categoryId) } }));

/** Every body once (8 in flight), so each server's caches hold the working set before it is measured. */
async function warmPass(url: string, bodies: readonly string[]): Promise<void> {
  await pool(bodies, 8, async (text) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
  });
}

interface ThroughputRow extends LoadResult {
  sqlPerRequest: number;
  redisPerRequest: number;
  cpu?: CpuPerRequest;
}

/** The peers the fixed-rate runs cover: ours, the two caches the issue names, and the ceiling. */
const HALF_RATE_SERVERS = [OURS, ARC, MERC, RAW];

/**
 * Latency at half load: each server, for the same seconds, at a fixed rate of half the req/s it reached
 * in `maxima` (its own maximum, so a slower server is not measured overloaded). Open loop with evenly
 * spaced sends and latency from each request's due time (bench/lib/paced.ts), every server the same way;
 * over several rounds the servers take turns and each keeps its median-p99 round.
 */
async function halfRate(
  targets: Target[],
  bodies: string[],
  maxima: Record<string, ThroughputRow>,
  label: string,
  pinned: boolean,
): Promise<Record<string, HalfRateRow>> {
  const rounds: Record<string, HalfRateRow[]> = {};
  const measured = targets.filter((t) => HALF_RATE_SERVERS.includes(t.name) && maxima[t.name]);
  const serverPids = targets.map((t) => t.server.pid!);
  for (let round = 1; round <= knobs.halfRateRounds; round += 1) {
    for (const target of measured) {
      if (pinned)
        spotlight(
          target.server.pid!,
          serverPids.filter((pid) => pid !== target.server.pid),
        );
      const rate = Math.max(1, Math.floor(maxima[target.name]!.rps / 2));
      // Warm again: minutes after a's warm pass, answers with a 300 s maxAge (stock) may have expired, and a
      // refill on the one id would stall every request of the run behind it.
      await warmPass(target.url, bodies);
      // Then the same rate for BENCH_WARMUP_SECONDS, not measured, as the throughput runs warm up: each server
      // has sat idle while the others took their turns, and V8 optimises its hot code again in the first few
      // hundred ms of load, on the server's one CPU (cachegate, with the most JavaScript on its path, fell
      // behind for 300-400 ms and carried the queue into the run's p99).
      const paced = { rate, seconds: knobs.seconds, connections: knobs.connections };
      if (knobs.warmupSeconds > 0) {
        const warm = await fixedRate(target.server, bodies, { ...paced, seconds: knobs.warmupSeconds });
        log(`${label} round ${round} ${target.name} warm-up (not measured): ${describeFixedRate(warm)}`);
      }
      const row = await fixedRate(target.server, bodies, paced);
      (rounds[target.name] ??= []).push(row);
      log(`${label} round ${round} ${target.name}: ${describeFixedRate(row)}`);
    }
  }
  if (pinned) backOnServerCpu(serverPids);
  return Object.fromEntries(
    Object.entries(rounds).map(([name, rows]) => {
      const sorted = [...rows].sort((a, b) => a.p99 - b.p99);
      return [name, { ...sorted[Math.floor(sorted.length / 2)]!, roundP99s: rows.map((row) => row.p99) }];
    }),
  );
}

/** Where the CPU went per request in a run, microseconds (f: the primary, the workers, the generator). */
interface CpuPerRequest {
  /** The server child: the gateway itself, or the primary of a set of workers. */
  server: number;
  /** The workers of a set (the server child's descendants); 0 for one process. */
  workers: number;
  /** The load generator: this process for autocannon, the wrk process for wrk. */
  generator: number;
}

interface MeasuredLoad extends LoadResult {
  generatorCpuMicrosPerRequest?: number;
}

interface ThroughputOptions {
  /** The measured load; default autocannon with the run's connections and seconds. */
  load?: (url: string, bodies: string[]) => Promise<MeasuredLoad>;
  /** Add each row's CPU per request (server child, its workers, the generator). */
  cpu?: boolean;
}

const autocannonLoad = (url: string, bodies: string[]): Promise<MeasuredLoad> => {
  const before = process.cpuUsage();
  return runLoad(url, bodies, { connections: knobs.connections, seconds: knobs.seconds }).then((result) => {
    const used = process.cpuUsage(before);
    return { ...result, generatorCpuMicrosPerRequest: (used.user + used.system) / Math.max(1, result.requests) };
  });
};

/** CPU seconds of a server child and, separately, of all its descendants (the workers of a set). */
function treeCpu(pid: number): { server: number; workers: number } {
  const workers = withDescendants(pid)
    .slice(1)
    .reduce((sum, child) => {
      try {
        return sum + cpuSeconds(child);
      } catch {
        return sum; // a descendant that has exited
      }
    }, 0);
  return { server: cpuSeconds(pid), workers };
}

async function throughput(
  targets: Target[],
  bodies: string[],
  redis: Redis,
  label: string,
  options: ThroughputOptions = {},
): Promise<Record<string, ThroughputRow>> {
  const load = options.load ?? autocannonLoad;
  const rounds: Record<string, ThroughputRow[]> = {};
  for (let round = 1; round <= knobs.rounds; round += 1) {
    for (const target of targets) {
      await warmPass(target.url, bodies);
      if (knobs.warmupSeconds > 0)
        await runLoad(target.url, bodies, { connections: knobs.connections, seconds: knobs.warmupSeconds });
      const sqlBefore = (await target.server.stats()).sql;
      const redisBefore = await commandCounts(redis);
      const cpuBefore = options.cpu ? treeCpu(target.server.pid!) : undefined;
      const { generatorCpuMicrosPerRequest, ...result } = await load(target.url, bodies);
      const cpuAfter = options.cpu ? treeCpu(target.server.pid!) : undefined;
      const sql = (await target.server.stats()).sql - sqlBefore;
      const redisCommands = totalOf(diffCounts(redisBefore, await commandCounts(redis)));
      const perRequest = (seconds: number): number => (seconds * 1e6) / Math.max(1, result.requests);
      const row: ThroughputRow = {
        ...result,
        sqlPerRequest: sql / Math.max(1, result.requests),
        redisPerRequest: redisCommands / Math.max(1, result.requests),
        ...(cpuBefore &&
          cpuAfter && {
            cpu: {
              server: perRequest(cpuAfter.server - cpuBefore.server),
              workers: perRequest(cpuAfter.workers - cpuBefore.workers),
              generator: generatorCpuMicrosPerRequest ?? Number.NaN,
            },
          }),
      };
      (rounds[target.name] ??= []).push(row);
      log(
        `${label} round ${round} ${target.name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ` +
          `non-2xx ${row.non2xx}, GraphQL errors ${row.graphqlErrors}` +
          (row.cpu
            ? `, CPU µs/req server ${row.cpu.server.toFixed(1)} workers ${row.cpu.workers.toFixed(1)} ` +
              `generator ${row.cpu.generator.toFixed(1)}`
            : ''),
      );
    }
  }
  // Several rounds: the round with the median req/s stands for the server.
  return Object.fromEntries(
    Object.entries(rounds).map(([name, rows]) => {
      const sorted = [...rows].sort((a, b) => a.rps - b.rps);
      return [name, sorted[Math.floor(sorted.length / 2)]!];
    }),
  );
}

/** Same operations, same variables, same answers: baselines must return exactly what cachegate does. */
async function sanityCheck(targets: Target[], picks: Picks): Promise<{ compared: number; mismatches: string[] }> {
  const probes = [
    ...picks.hotIds.slice(0, 5).map((id) => ({ query: PRODUCT_PAGE, variables: { id: String(id) } })),
    ...picks.categoryIds.map((categoryId) => ({
      query: LISTING,
      variables: { first: 20, filter: { categoryId: String(categoryId) } },
    })),
  ];
  const mismatches: string[] = [];
  for (const probe of probes) {
    const answers = await Promise.all(
      targets.map(async (t) => ({ name: t.name, result: await post(t.url, probe.query, probe.variables) })),
    );
    const reference = JSON.stringify(answers[0]!.result.data);
    if (answers[0]!.result.errors || !answers[0]!.result.data)
      mismatches.push(`${answers[0]!.name} answered ${JSON.stringify(answers[0]!.result).slice(0, 300)}`);
    for (const answer of answers.slice(1)) {
      if (JSON.stringify(answer.result.data) !== reference) {
        mismatches.push(
          `${answer.name} differs from ${answers[0]!.name} on ${JSON.stringify(probe.variables)}: ` +
            `${JSON.stringify(answer.result).slice(0, 300)}`,
        );
      }
    }
  }
  return { compared: probes.length * targets.length, mismatches };
}

// ---- c. cold vs warm SQL (ours, in-process, onQuery) ------------------------------------------
interface InProcessGateway {
  gateway: Gateway;
  sql: string[];
}

async function startInProcess(infra: Infra, prefix: string): Promise<InProcessGateway> {
  const sql: string[] = [];
  const config = loadConfig({
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: infra.databaseUrl,
    DATABASE_POOL_SIZE: String(knobs.poolSize),
    REDIS_URL: infra.redis.url,
    CACHE_PREFIX: prefix,
    SEED_ON_EMPTY: 'false',
    ...gatewayEnv(),
  });
  const gateway = await startGateway(config, { onQuery: (statement) => sql.push(statement) });
  return { gateway, sql };
}

async function countPhase(
  url: string,
  bodies: string[],
  concurrency: number,
  sqlCount: () => number,
  redis: Redis,
): Promise<PhaseCount> {
  const sqlBefore = sqlCount();
  const redisBefore = await commandCounts(redis);
  let errors = 0;
  await pool(bodies, concurrency, async (text) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: text,
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await response.json()) as { errors?: unknown[] };
    if (response.status !== 200 || json.errors) errors += 1;
  });
  await sleep(50); // fills are written after the response may have gone out: count them in this phase
  const sql = sqlCount() - sqlBefore;
  const redisByCommand = diffCounts(redisBefore, await commandCounts(redis));
  const redisCommands = totalOf(redisByCommand);
  return {
    requests: bodies.length,
    sql,
    sqlPerRequest: sql / bodies.length,
    redisCommands,
    redisPerRequest: redisCommands / bodies.length,
    redisByCommand,
    errors,
  };
}

async function coldVsWarm(
  infra: Infra,
  picks: Picks,
  redis: Redis,
  noCache: Target,
): Promise<Results['coldVsWarmSql']> {
  const started: InProcessGateway[] = [];
  const start = async (prefix: string): Promise<InProcessGateway> => {
    const g = await startInProcess(infra, prefix);
    started.push(g);
    return g;
  };
  try {
    const page = productBodies(picks.coldIds);
    const prefix = `cold${randomBytes(3).toString('hex')}`;
    const a = await start(prefix);
    const count = (g: InProcessGateway) => () => g.sql.length;
    const productPage = {
      cold: await countPhase(a.gateway.url, page, 1, count(a), redis),
      warm: await countPhase(a.gateway.url, page, 1, count(a), redis),
      // A second instance on the same prefix: its L1 is empty, Redis is warm (a scaled-out or restarted pod).
      secondInstance: await (async () => {
        const b = await start(prefix);
        return countPhase(b.gateway.url, page, 1, count(b), redis);
      })(),
      // 100 distinct ids at once on a fresh prefix: no per-request batching across requests, but misses
      // on shared keys (categories) coalesce.
      coldConcurrent: await (async () => {
        const c = await start(`cold${randomBytes(3).toString('hex')}`);
        return countPhase(c.gateway.url, page, page.length, count(c), redis);
      })(),
    };
    // The floor for reference: no-cache's statements for the same 100 requests (counted in its process).
    const noCacheBefore = (await noCache.server.stats()).sql;
    await pool(page, 1, (text) =>
      fetch(noCache.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text }).then((r) =>
        r.arrayBuffer(),
      ),
    );
    const noCacheProductPageSql = ((await noCache.server.stats()).sql - noCacheBefore) / page.length;

    const listing = [body(LISTING, { first: 100 })];
    const l = await start(`cold${randomBytes(3).toString('hex')}`);
    const listing100 = {
      cold: await countPhase(l.gateway.url, listing, 1, count(l), redis),
      warm: await countPhase(l.gateway.url, listing, 1, count(l), redis),
    };
    const noCacheListingBefore = (await noCache.server.stats()).sql;
    await post(noCache.url, LISTING, { first: 100 });
    const noCacheListingSql = (await noCache.server.stats()).sql - noCacheListingBefore;
    return {
      productPage,
      listing100,
      noCacheReference: { productPageSqlPerRequest: noCacheProductPageSql, listing100Sql: noCacheListingSql },
    };
  } finally {
    for (const g of started.reverse())
      await g.gateway.stop().catch((error: unknown) => log(`in-process gateway stop failed: ${String(error)}`));
  }
}

// ---- d. Redis commands per request -------------------------------------------------------------
async function roundTrips(
  targets: Target[],
  bodies: string[],
  redisUrl: string,
  redis: Redis,
): Promise<Results['redisRoundTrips']> {
  const out: Results['redisRoundTrips'] = {};
  for (const target of targets) {
    await warmPass(target.url, bodies);
    const before = await commandCounts(redis);
    const { result, counts } = await monitorDuring(redisUrl, () =>
      runLoad(target.url, bodies, { connections: knobs.connections, amount: knobs.roundTripRequests }),
    );
    const executed = diffCounts(before, await commandCounts(redis));
    const requests = Math.max(1, result.requests);
    out[target.name] = {
      requests: result.requests,
      sentPerRequest: totalOf(counts.sent) / requests,
      sent: counts.sent,
      insideLua: counts.insideLua,
      executedPerRequest: totalOf(executed) / requests,
      executed,
    };
    log(
      `redis-round-trips ${target.name}: ${out[target.name]!.sentPerRequest.toFixed(3)} commands sent/request ` +
        `${JSON.stringify(counts.sent)}, inside Lua ${JSON.stringify(counts.insideLua)}`,
    );
  }
  return out;
}

// ---- e. write then read, under load -------------------------------------------------------------
const cents = (decimal: string): number => Math.round(Number(decimal) * 100);
const decimalOf = (c: number): string => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

async function writeThenRead(
  target: Target,
  picks: Picks,
  write: (id: number, price: string) => Promise<void>,
  note: string,
): Promise<WriteCheck> {
  const bodies = productBodies(picks.hotIds);
  await warmPass(target.url, bodies);
  const load = startLoad(target.url, bodies, {
    connections: Math.max(1, Math.floor(knobs.connections / 2)),
    seconds: 120,
  });
  const written: { id: number; price: string }[] = [];
  const writeMs: number[] = [];
  let staleImmediately = 0;
  let readErrors = 0;
  try {
    await sleep(500); // the load is running before the first write
    for (let k = 0; k < knobs.writes; k += 1) {
      const id = picks.hotIds[(k * 7) % picks.hotIds.length]!;
      const before = await post(target.url, PRODUCT_PAGE, { id: String(id) });
      const old = before.data?.product?.basePrice as string | undefined;
      if (!old)
        throw new Error(
          `${target.name}: product ${id} unreadable before the write: ${JSON.stringify(before).slice(0, 300)}`,
        );
      const price = decimalOf(cents(old) + 100 + k);
      const t0 = performance.now();
      await write(id, price);
      writeMs.push(performance.now() - t0);
      const after = await post(target.url, PRODUCT_PAGE, { id: String(id) });
      if (after.errors || !after.data?.product) readErrors += 1;
      else if (after.data.product.basePrice !== price) staleImmediately += 1;
      written.push({ id, price });
    }
  } finally {
    load.stop();
  }
  const loadDuringTest = await load.done;
  await sleep(1000);
  let staleAfter1s = 0;
  for (const { id, price } of written) {
    const again = await post(target.url, PRODUCT_PAGE, { id: String(id) });
    if (again.data?.product?.basePrice !== price) staleAfter1s += 1;
  }
  writeMs.sort((a, b) => a - b);
  return {
    writes: written.length,
    staleImmediately,
    staleAfter1s,
    readErrors,
    writeMs: { p50: round(writeMs[Math.floor(writeMs.length / 2)] ?? 0), max: round(writeMs.at(-1) ?? 0) },
    loadDuringTest,
    note,
  };
}

/**
 * f. The warm product page from one gateway process against two (WORKERS=2, src/server/cluster.ts). Not
 * pinned: two workers need both CPUs, so the load generator shares them with the servers, PostgreSQL and
 * Redis. Measured twice, rounds interleaved: with autocannon as in a (JavaScript: it needs most of a core
 * itself, which a second worker can only take from it) and with wrk (C, one thread: it leaves the CPUs to
 * the servers), each with the CPU time per request of the gateway or primary, the workers and the generator.
 */
async function workersScenario(
  infra: Infra,
  picks: Picks,
  redis: Redis,
  infraPids: number[],
): Promise<{ rows: Record<string, ThroughputRow>; wrkRows?: Record<string, ThroughputRow>; placement: string }> {
  const placement = unpin(infraPids); // before starting the servers: children inherit this process's CPUs
  const common = {
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: infra.redis.url,
    DATABASE_POOL_SIZE: String(knobs.poolSize),
    ...gatewayEnv(),
    METRICS_TOKEN: randomBytes(16).toString('hex'),
  };
  const targets: Target[] = [];
  for (const workers of [1, 2]) {
    const name = `cachegate WORKERS=${workers}`;
    const env = { ...common, WORKERS: String(workers), CACHE_PREFIX: `benchw${workers}` };
    const server = await ChildServer.start({ name, entry: 'cachegate.ts', env });
    cleanups.push({ name, run: () => server.stop() });
    killers.push(() => server.kill());
    targets.push({ name, url: server.url, server });
  }
  const bodies = productBodies(picks.hotIds);
  const rows = await throughput(targets, bodies, redis, 'workers-product-page-warm (autocannon)', { cpu: true });
  const wrkRows = wrkAvailable()
    ? await throughput(targets, bodies, redis, 'workers-product-page-warm (wrk)', {
        cpu: true,
        load: (url, b) => runWrk(url, b, { connections: knobs.connections, seconds: knobs.seconds }),
      })
    : undefined;
  if (!wrkRows) log('wrk is not installed (scripts/bench.sh installs it): f runs with autocannon only');
  for (const target of targets) await target.server.stop();
  return { rows, ...(wrkRows && { wrkRows }), placement };
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

// ---- main ----------------------------------------------------------------------------------------
async function main(): Promise<void> {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  log(`knobs ${JSON.stringify(knobs)}`);

  log('starting PostgreSQL and redis-server, migrating and seeding');
  const infra = await startInfra(knobs.seedScale, (destroy, killNow) => {
    cleanups.push({ name: 'infra', run: destroy });
    killers.push(killNow);
  });
  log(
    `seeded ${infra.seed.products} products in ${infra.seed.ms} ms (PostgreSQL :${infra.pg.port}, Redis ` +
      `:${infra.redis.port})`,
  );

  const sql = new pg.Client({ connectionString: infra.databaseUrl });
  await sql.connect();
  cleanups.push({ name: 'pg client', run: () => sql.end() });
  const redis = new Redis(infra.redis.url, { maxRetriesPerRequest: 1 });
  cleanups.push({ name: 'redis client', run: async () => void (await redis.quit()) });
  const picks = await pick(sql, knobs.hotIds, knobs.coldIds, knobs.wideIds);
  log(
    `hot ids ${picks.hotIds.length}, wide ids ${picks.wideIds.length}, cold ids ${picks.coldIds.length}, ` +
      `categories ${picks.categoryIds.join(',')}`,
  );
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  const postmasterPid = Number(readFileSync(`${infra.pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
  if (knobs.only === 'workers') {
    const workers = await workersScenario(infra, picks, redis, [redisPid, postmasterPid]);
    log(`f. workers (${workers.placement})`);
    process.stdout.write(renderWorkers(workers.rows, workers.wrkRows, workers.placement, knobs));
    return;
  }

  const common = {
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: infra.redis.url,
    DATABASE_POOL_SIZE: String(knobs.poolSize),
  };
  // The execution path of the commit before it was made lean, started from a temporary git worktree.
  const baseline = knobs.withExecBaseline ? addBaselineWorktree(new URL('..', import.meta.url).pathname) : undefined;
  if (baseline) cleanups.push({ name: 'baseline worktree', run: async () => baseline.remove() });
  const specs: ServerSpec[] = [
    {
      name: OURS,
      entry: 'cachegate.ts',
      env: { ...common, ...gatewayEnv(), CACHE_PREFIX: 'bench' },
      // e.g. BENCH_CACHEGATE_NODE_FLAGS=--trace-gc: V8 flags for cachegate's process alone, to look into it.
      ...(process.env.BENCH_CACHEGATE_NODE_FLAGS && { nodeFlags: process.env.BENCH_CACHEGATE_NODE_FLAGS.split(' ') }),
      ...(knobs.cpuProfile && { cpuProfileDir: new URL('./results/cpu-profile.tmp/', import.meta.url).pathname }),
    },
    ...(knobs.withNoL1
      ? [
          {
            name: NO_L1,
            entry: 'cachegate.ts' as const,
            env: { ...common, ...gatewayEnv(), CACHE_PREFIX: 'benchnol1', L1_MAX_BYTES: '1' },
          },
        ]
      : []),
    {
      name: EXEC,
      entry: 'cachegate.ts',
      env: { ...common, ...gatewayEnv(), CACHE_PREFIX: 'benchexec', RESPONSE_CACHE: 'false' },
    },
    ...(baseline
      ? [
          {
            name: EXEC_BASE,
            entry: 'cachegate.ts' as const,
            root: baseline.root,
            // Started with today's node flags too (children.ts): the ratio compares execution paths.
            env: { ...common, ...gatewayEnv(), CACHE_PREFIX: 'benchexecbase', RESPONSE_CACHE: 'false' },
          },
        ]
      : []),
    { name: ARC, entry: 'baseline.ts', env: { ...common, BASELINE_MODE: ARC } },
    { name: MERC, entry: 'baseline.ts', env: { ...common, BASELINE_MODE: 'mercurius' } },
    { name: HAND, entry: 'baseline.ts', env: { ...common, BASELINE_MODE: HAND } },
    { name: NONE, entry: 'baseline.ts', env: { ...common, BASELINE_MODE: NONE } },
  ];
  // BENCH_ONLY=half-rate: the fixed-rate peers alone, after the throughput runs that set their rates.
  const started = knobs.only === 'half-rate' ? specs.filter((spec) => HALF_RATE_SERVERS.includes(spec.name)) : specs;
  log(`starting ${started.map((s) => s.name).join(', ')}`);
  const settled = await Promise.allSettled(started.map((spec) => ChildServer.start(spec)));
  const targets: Target[] = [];
  for (const result of settled) {
    if (result.status === 'fulfilled') {
      const server = result.value;
      targets.push({ name: server.name, url: server.url, server });
      cleanups.push({ name: server.name, run: () => server.stop() });
      killers.push(() => server.kill());
    }
  }
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const target = (name: string): Target => targets.find((t) => t.name === name)!;
  // The ceiling learns each answer from cachegate once (its warm pass), then serves stored bytes only.
  const raw = await ChildServer.start({ name: RAW, entry: 'raw.ts', env: { SOURCE_URL: target(OURS).url } });
  targets.push({ name: RAW, url: raw.url, server: raw });
  cleanups.push({ name: RAW, run: () => raw.stop() });
  killers.push(() => raw.kill());
  const pinning = pinServersAndLoad([...targets.map((t) => t.server.pid!), redisPid, postmasterPid]);
  log(pinning);
  const pinned = pinning.startsWith('pinned');
  const halfRatePlacement =
    (pinned
      ? 'the measured server alone on CPU 0 with PostgreSQL and Redis, the servers waiting their turn on CPU 1 ' +
        'with the load generator'
      : pinning) +
    `; cachegate with the node flags of npm start (${startFlags().join(' ') || 'none'}), ` +
    "the others with Node's defaults";
  for (const t of targets) log(`${t.name} at ${t.url} (pid ${t.server.pid})`);

  const sanity = await sanityCheck(targets, picks);
  log(`sanity: ${sanity.compared} answers compared, ${sanity.mismatches.length} mismatches`);
  for (const m of sanity.mismatches) log(`  MISMATCH ${m}`);
  if (sanity.mismatches.length)
    throw new Error('servers disagree on the same queries: the comparison would be meaningless');

  log('a1. product-page-one-id');
  const oneId = productBodies(picks.hotIds.slice(0, 1));
  const productPageOneId = await throughput(targets, oneId, redis, 'product-page-one-id');
  log('a. product-page-warm');
  const wide = productBodies(picks.wideIds);
  const productPageWarm = await throughput(targets, wide, redis, 'product-page-warm');
  const productPageHalfRate: Record<string, Record<string, HalfRateRow>> = knobs.halfRate
    ? {
        'a1. product-page-one-id': await halfRate(targets, oneId, productPageOneId, 'half-rate one id', pinned),
        'a. product-page-warm': await halfRate(targets, wide, productPageWarm, 'half-rate wide', pinned),
      }
    : {};
  if (knobs.only === 'half-rate') {
    process.stdout.write(halfRateSection(productPageHalfRate, knobs, halfRatePlacement));
    return;
  }

  // Counts, not time: after the timed runs of a, so its in-process gateways never share their CPU.
  log('c. cold-vs-warm-sql');
  const coldVsWarmSql = await coldVsWarm(infra, picks, redis, target(NONE));

  log('b. listing-warm');
  const listingWarm = await throughput(targets, listingBodies(picks.categoryIds), redis, 'listing-warm');

  log('d. redis-round-trips');
  const redisRoundTrips = await roundTrips(
    targets.filter((t) => t.name !== NONE),
    productBodies(picks.hotIds),
    infra.redis.url,
    redis,
  );

  log('e. write-then-read');
  const signIn = await post(target(OURS).url, SIGN_IN, { email: 'admin@cachegate.test', password: SEED_PASSWORD });
  const token = signIn.data?.signIn?.token as string | undefined;
  if (!token) throw new Error(`sign-in as admin@cachegate.test failed: ${JSON.stringify(signIn).slice(0, 300)}`);
  const ours = await writeThenRead(
    target(OURS),
    picks,
    async (id, price) => {
      const result = await post(
        target(OURS).url,
        UPDATE_PRICE,
        { id: String(id), price },
        { authorization: `Bearer ${token}` },
      );
      if (result.errors || result.data?.updateProduct?.basePrice !== price)
        throw new Error(`updateProduct failed: ${JSON.stringify(result).slice(0, 300)}`);
    },
    'updateProduct mutation (commit, then entity + list invalidation in L1, Redis and on the bus)',
  );
  log(
    `write-then-read ${OURS}: ${ours.staleImmediately}/${ours.writes} stale immediately, ${ours.staleAfter1s} after ` +
      `1 s`,
  );
  const directWrite = async (id: number, price: string): Promise<void> => {
    await sql.query('UPDATE "Product" SET price = $1, "updatedAt" = now() WHERE id = $2', [price, id]);
  };
  const arc = await writeThenRead(
    target(ARC),
    picks,
    directWrite,
    'same UPDATE in PostgreSQL; the plugin has no per-entity invalidation, so none',
  );
  log(`write-then-read ${ARC}: ${arc.staleImmediately}/${arc.writes} stale immediately, ${arc.staleAfter1s} after 1 s`);
  const arcFlush = await writeThenRead(
    target(ARC),
    picks,
    async (id, price) => {
      await directWrite(id, price);
      if ((await target(ARC).server.flush()) !== 'flushed') throw new Error('flush failed');
    },
    'same UPDATE, then keyv.clear(): the only purge available, it drops every cached response',
  );
  log(`write-then-read ${ARC} + flush-all: ${arcFlush.staleImmediately}/${arcFlush.writes} stale immediately`);

  log('f. workers-product-page-warm');
  for (const t of targets) await t.server.stop(); // the set of two needs both CPUs to itself
  const workers = await workersScenario(infra, picks, redis, [redisPid, postmasterPid]);

  const results: Results = {
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: round(os.totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverageBefore: loadBefore.map((n) => round(n)),
      loadAverageAfter: os.loadavg().map((n) => round(n)),
    },
    date: startedAt.toISOString(),
    durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    knobs,
    cachegateEnv: gatewayEnv(),
    seed: infra.seed,
    servers: targets.map((t) => t.name),
    ...(baseline && { execution: { path: EXEC, baseline: EXEC_BASE, commit: baseline.commit } }),
    pinning,
    picks: {
      hotIds: picks.hotIds.length,
      coldIds: picks.coldIds.length,
      categoryIds: picks.categoryIds,
      wideIds: picks.wideIds.length,
    },
    sanity,
    productPageOneId,
    productPageWarm,
    productPageHalfRate,
    halfRatePlacement,
    listingWarm,
    coldVsWarmSql,
    redisRoundTrips,
    writeThenRead: { [OURS]: ours, [ARC]: arc, [`${ARC} + flush-all`]: arcFlush },
    workersProductPageWarm: workers.rows,
    ...(workers.wrkRows && { workersProductPageWarmWrk: workers.wrkRows }),
    workersPlacement: workers.placement,
  };
  const markdown = renderMarkdown(results);
  const dir = new URL('./results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  await writeFile(new URL('latest.json', dir), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(new URL('latest.md', dir), markdown);
  await writeFile(
    new URL('latest.svg', dir),
    renderSvg(`cachegate bench ${results.date} (same run, ${pinning.split(':')[0]})`, {
      'a1. product-page-one-id': productPageOneId,
      'a. product-page-warm': productPageWarm,
      'b. listing-warm': listingWarm,
    }),
  );
  process.stdout.write(markdown);
}

let exitCode = 0;
try {
  await main();
} catch (error) {
  exitCode = 1;
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  log('stopping servers, PostgreSQL and Redis');
  await cleanUp();
}
process.exit(exitCode);
