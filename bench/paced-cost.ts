// `npx tsx bench/paced-cost.ts`: what one warm product-page hit costs the server process, in CPU
// microseconds, when requests arrive evenly spaced (the paced generator of bench/lib/paced.ts at a fixed
// rate both servers sustain) and when they arrive in a closed-loop burst (autocannon), for cachegate and
// the raw node:http ceiling (bench/servers/raw.ts), interleaved round by round so both meet the same
// machine. Per server and mode it prints CPU µs per request split into the event-loop thread's user and
// kernel time and the process's other threads (V8's GC helpers, libuv), the CPU PostgreSQL and Redis
// used meanwhile (they share the server's core in the pinned bench), the loop's scavenges, and how long
// the loop thread waited for a CPU (other work on the machine). Before the rounds it measures each
// server idle, so a background cost per second shows apart from the cost per request.
// Knobs: PACED_COST_RATE (8000), PACED_COST_SECONDS (5), PACED_COST_ROUNDS (3), PACED_COST_IDS (1:
// the one hot id; N: N hot ids), PACED_COST_PIN (1: pinned as bench/run.ts pins), PACED_COST_TREES
// (`name=/abs/path,…`, default this checkout: compare checkouts), PACED_COST_WARM_SECONDS (0: a closed-loop
// run of that length before each measured run), PACED_COST_PERF=1 (perf stat of
// software events on the server during each paced run).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { ChildServer } from './lib/children.ts';
import type { LoopStats } from './servers/ipc.ts';
import { pick, startInfra } from './lib/infra.ts';
import { type LoadResult, runLoad } from './lib/load.ts';
import { fixedRate } from './lib/paced.ts';
import { pinServersAndLoad, withDescendants } from './lib/pinning.ts';
import { body, PRODUCT_PAGE } from './lib/queries.ts';
import { pool } from '../test/support/pool.ts';

const rate = Number(process.env.PACED_COST_RATE ?? 8000);
const seconds = Number(process.env.PACED_COST_SECONDS ?? 5);
const rounds = Number(process.env.PACED_COST_ROUNDS ?? 3);
const ids = Number(process.env.PACED_COST_IDS ?? 1);
const connections = 32;
const warmSeconds = Number(process.env.PACED_COST_WARM_SECONDS ?? 0);
const here = new URL('..', import.meta.url).pathname;
const trees = (process.env.PACED_COST_TREES ?? `cachegate=${here}`).split(',').map((pair) => {
  const [name, path] = pair.split('=');
  return { name: name!, path: path! };
});
const nodeFlags = [
  ...(process.env.PACED_COST_PERF_RECORD ? ['--perf-basic-prof'] : []),
  ...(process.env.PACED_COST_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];
const modes = (process.env.PACED_COST_MODES ?? 'paced,burst').split(',') as ('paced' | 'burst')[];
const log = (message: string): void => console.error(`[paced-cost] ${message}`);

/** User and system CPU seconds of one thread or process from its stat line (clock ticks of 10 ms). */
function ticks(statPath: string): { user: number; sys: number } {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
  } catch {
    return { user: 0, sys: 0 }; // a process that ended meanwhile
  }
}

/** CPU seconds of a server's event-loop thread (user, sys), its other threads, and a set of other processes. */
interface Sample {
  loopUser: number;
  loopSys: number;
  others: number;
  infra: number;
  /** The loop thread's run-queue wait, seconds. */
  waited: number;
  /** Voluntary and involuntary context switches of the loop thread. */
  switches: number;
}

function sample(pid: number, infraPids: () => number[]): Sample {
  const loop = ticks(`/proc/${pid}/task/${pid}/stat`);
  let others = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (Number(tid) === pid) continue;
    const t = ticks(`/proc/${pid}/task/${tid}/stat`);
    others += t.user + t.sys;
  }
  let infra = 0;
  for (const other of infraPids()) {
    const t = ticks(`/proc/${other}/stat`);
    infra += t.user + t.sys;
  }
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const switches = [...status.matchAll(/ctxt_switches:\s+(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  const waited = Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  return { loopUser: loop.user, loopSys: loop.sys, others, infra, waited, switches };
}

function delta(after: Sample, before: Sample): Sample {
  return {
    loopUser: after.loopUser - before.loopUser,
    loopSys: after.loopSys - before.loopSys,
    others: after.others - before.others,
    infra: after.infra - before.infra,
    waited: after.waited - before.waited,
    switches: after.switches - before.switches,
  };
}

/**
 * perf stat of software events on one process while `during` runs (PACED_COST_PERF=1), or perf record of
 * its CPU clock samples into `<PACED_COST_PERF_RECORD>/<label>.data` (the children then run with
 * --perf-basic-prof, so `perf report` names JavaScript functions).
 */
async function perfStat<T>(
  pid: number,
  label: string,
  during: () => Promise<T>,
): Promise<{ result: T; perf?: string }> {
  const recordDir = process.env.PACED_COST_PERF_RECORD;
  if (process.env.PACED_COST_PERF !== '1' && !recordDir) return { result: await during() };
  const events = 'task-clock,context-switches,cpu-migrations,page-faults';
  const args = recordDir
    ? ['record', '-e', 'cpu-clock', '-F', '2000', '-g', '-o', `${recordDir}/${label}.data`, '-p', String(pid)]
    : ['stat', '-x', ',', '-e', events, '-p', String(pid)];
  let perf: ReturnType<typeof execFile> | undefined;
  // The callback runs once perf has exited and its output is complete.
  const ended = new Promise<string>((resolve) => {
    perf = execFile('perf', args, (_error, _out, err) => resolve(err));
  });
  await new Promise((resolve) => setTimeout(resolve, 200)); // perf attaches
  const result = await during();
  perf!.kill('SIGINT');
  const output = await ended;
  const rows = output
    .split('\n')
    .filter((line) => /^\d/.test(line))
    .map((line) => line.split(','))
    .map(([value, , event]) => `${event}=${value}`);
  return { result, perf: rows.join(' ') };
}

interface Row {
  server: string;
  mode: 'paced' | 'burst';
  round: number;
  requests: number;
  rps: number;
  p99: number;
  cost: Sample;
  scavenges?: number;
  perf?: string;
}

const stops: (() => Promise<void>)[] = [];
try {
  const infra = await startInfra('small', (destroy) => stops.push(destroy));
  const sql = new pg.Client({ connectionString: infra.databaseUrl });
  await sql.connect();
  const picks = await pick(sql, Math.max(ids, 10), 10);
  await sql.end();
  const servers: { name: string; server: ChildServer }[] = [];
  const secret = randomBytes(24).toString('hex');
  for (const [i, tree] of trees.entries()) {
    const server = await ChildServer.start({
      name: tree.name,
      entry: 'cachegate.ts',
      root: tree.path,
      nodeFlags,
      env: {
        DATABASE_URL: infra.databaseUrl,
        REDIS_URL: infra.redis.url,
        CACHE_PREFIX: `pc${i}`,
        KEY_HASH_SECRET: secret,
        RATE_LIMIT_READS_PER_MINUTE: '1000000000',
        WARM_ON_START: 'false',
      },
    });
    stops.unshift(() => server.stop());
    servers.push({ name: tree.name, server });
  }
  const raw = await ChildServer.start({
    name: 'raw',
    entry: 'raw.ts',
    nodeFlags,
    env: { SOURCE_URL: servers[0]!.server.url },
  });
  stops.unshift(() => raw.stop());
  servers.push({ name: 'raw-ceiling', server: raw });

  const redis = new Redis(infra.redis.url);
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
  await redis.quit();
  const postmasterPid = Number(readFileSync(`${infra.pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
  const infraPids = (): number[] => [redisPid, ...withDescendants(postmasterPid)];
  if (process.env.PACED_COST_PIN !== '0')
    log(pinServersAndLoad([...servers.map((s) => s.server.pid!), redisPid, postmasterPid]));

  const bodies = picks.hotIds.slice(0, ids).map((id) => body(PRODUCT_PAGE, { id: String(id) }));
  for (const { server } of servers) {
    await pool(bodies, 8, (text) =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text }).then((r) =>
        r.arrayBuffer(),
      ),
    );
    await runLoad(server.url, bodies, { connections, seconds: 2 });
    await server.loopStats(); // starts the loop watch now, for every mode alike
  }

  // Idle: what each server's process burns per second with no request at all (timers, intervals).
  for (const { name, server } of servers) {
    const before = sample(server.pid!, infraPids);
    await perfStat(server.pid!, `${name}-idle`, () => new Promise((resolve) => setTimeout(resolve, seconds * 1000)));
    const idle = delta(sample(server.pid!, infraPids), before);
    const ms = (s: number): string => ((s * 1000) / seconds).toFixed(1);
    log(
      `${name} idle: loop ${ms(idle.loopUser + idle.loopSys)} ms/s, other threads ${ms(idle.others)} ms/s, ` +
        `PostgreSQL+Redis ${ms(idle.infra)} ms/s, loop switches ${(idle.switches / seconds).toFixed(0)}/s`,
    );
  }

  const rows: Row[] = [];
  for (let round = 1; round <= rounds; round += 1) {
    for (const mode of modes) {
      for (const { name, server } of servers) {
        // Re-warm: a stored answer may have reached its maxAge since the last run.
        await pool(bodies, 8, (text) =>
          fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text }).then((r) =>
            r.arrayBuffer(),
          ),
        );
        // PACED_COST_WARM_SECONDS: a closed-loop run first, so the code is optimized again after the idle spell.
        if (warmSeconds > 0) await runLoad(server.url, bodies, { connections, seconds: warmSeconds });
        await server.loopStats();
        const before = sample(server.pid!, infraPids);
        const { result, perf } = await perfStat(
          server.pid!,
          `${name}-${mode}-${round}`,
          async (): Promise<LoadResult & { loop?: LoopStats | null }> =>
            mode === 'paced'
              ? fixedRate(server, bodies, { rate, seconds, connections })
              : runLoad(server.url, bodies, { connections, seconds }),
        );
        const cost = delta(sample(server.pid!, infraPids), before);
        // A paced run reads the loop watch itself (fixedRate); a burst run reads it here.
        const loop = result.loop !== undefined ? result.loop : await server.loopStats();
        if (result.non2xx || result.graphqlErrors || result.socketErrors)
          throw new Error(`${name} ${mode}: ${JSON.stringify(result)}`);
        const row: Row = {
          server: name,
          mode,
          round,
          requests: result.requests,
          rps: result.rps,
          p99: result.p99,
          cost,
          ...(loop?.gc.minor && { scavenges: loop.gc.minor.count }),
          ...(perf && { perf }),
        };
        rows.push(row);
        log(describe(row));
        if ('slowSlices' in result)
          log(`  slow 100 ms slices [at ms, slowest ms]: ${JSON.stringify(result.slowSlices)}`);
      }
    }
  }
  process.stdout.write(table(rows));
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
}
process.exit(0);

function perRequest(row: Row): Record<'loopUser' | 'loopSys' | 'others' | 'total' | 'infra', number> {
  const us = (s: number): number => (s * 1e6) / Math.max(1, row.requests);
  const { loopUser, loopSys, others, infra } = row.cost;
  return {
    loopUser: us(loopUser),
    loopSys: us(loopSys),
    others: us(others),
    total: us(loopUser + loopSys + others),
    infra: us(infra),
  };
}

function describe(row: Row): string {
  const c = perRequest(row);
  return (
    `round ${row.round} ${row.mode} ${row.server}: ${row.rps.toFixed(0)} req/s, p99 ${row.p99} ms, ` +
    `${c.total.toFixed(1)} µs CPU/req (loop user ${c.loopUser.toFixed(1)}, loop sys ${c.loopSys.toFixed(1)}, ` +
    `other threads ${c.others.toFixed(1)}), PostgreSQL+Redis ${c.infra.toFixed(1)} µs/req, ` +
    `loop switches/req ${(row.cost.switches / Math.max(1, row.requests)).toFixed(2)}, ` +
    `waited ${(row.cost.waited * 1000).toFixed(0)} ms, scavenges ${row.scavenges ?? 0}` +
    (row.perf ? `, perf: ${row.perf}` : '')
  );
}

/** Medians over the rounds, one line per server and mode. */
function table(rows: Row[]): string {
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const lines = [
    `| mode | server | req/s | CPU µs/req | loop user | loop sys | other threads | PG+Redis µs/req | ` +
      `loop switches/req | waited ms | p99 ms |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const mode of modes) {
    for (const server of [...new Set(rows.map((r) => r.server))]) {
      const mine = rows.filter((r) => r.mode === mode && r.server === server);
      const costs = mine.map(perRequest);
      const m = (pickOne: (c: ReturnType<typeof perRequest>) => number): string =>
        median(costs.map(pickOne)).toFixed(1);
      lines.push(
        `| ${mode} | ${server} | ${median(mine.map((r) => r.rps)).toFixed(0)} | ${m((c) => c.total)} | ` +
          `${m((c) => c.loopUser)} | ${m((c) => c.loopSys)} | ${m((c) => c.others)} | ${m((c) => c.infra)} | ` +
          `${median(mine.map((r) => r.cost.switches / Math.max(1, r.requests))).toFixed(2)} | ` +
          `${median(mine.map((r) => r.cost.waited * 1000)).toFixed(0)} | ${median(mine.map((r) => r.p99))} |`,
      );
    }
  }
  return `${lines.join('\n')}\n\n(medians of ${rounds} rounds of ${seconds} s; paced at ${rate}/s over ${ids} id(s))\n`;
}
