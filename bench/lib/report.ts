// The results file's shape and its Markdown summary: one table per scenario, cachegate's ratios
// against each baseline measured in the same run.
import type { LoadResult } from './load.ts';
import type { FixedRateRow } from './paced.ts';
import type { CommandCounts } from './redis-stats.ts';

interface ThroughputRow extends LoadResult {
  sqlPerRequest: number;
  redisPerRequest: number;
  /** CPU time per request, microseconds: the server child (gateway or primary), its workers, the generator. */
  cpu?: { server: number; workers: number; generator: number };
}

/** A fixed-rate run (paced.ts): the rate asked for (half of the server's measured maximum) and what it got. */
/** A server's median-p99 round at half load, with the p99 of every round it ran. */
export type HalfRateRow = FixedRateRow & { roundP99s?: number[] };

export interface PhaseCount {
  requests: number;
  sql: number;
  sqlPerRequest: number;
  redisCommands: number;
  redisPerRequest: number;
  redisByCommand: CommandCounts;
  errors: number;
}

export interface WriteCheck {
  writes: number;
  staleImmediately: number;
  staleAfter1s: number;
  readErrors: number;
  writeMs: { p50: number; max: number };
  loadDuringTest: LoadResult;
  note: string;
}

export interface Results {
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    platform: string;
    loadAverageBefore: number[];
    loadAverageAfter: number[];
  };
  date: string;
  durationSeconds: number;
  knobs: Record<string, unknown> & {
    seconds: number;
    connections: number;
    warmupSeconds: number;
    rounds: number;
    halfRateRounds: number;
    roundTripRequests: number;
    writes: number;
    hotIds: number;
    coldIds: number;
  };
  cachegateEnv: Record<string, string>;
  seed: { products: number; ms: number; migrations: number };
  servers: string[];
  /** The execution path (response cache off) and the same at the commit before it was made lean. */
  execution?: { path: string; baseline: string; commit: string };
  /** How the servers and the load generator were placed on the CPUs (pinning.ts). */
  pinning?: string;
  picks: { hotIds: number; coldIds: number; categoryIds: number[]; wideIds?: number };
  sanity: { compared: number; mismatches: string[] };
  /** The product page on one id (a1) and over the wide set of ids (a). */
  productPageOneId?: Record<string, ThroughputRow>;
  productPageWarm: Record<string, ThroughputRow>;
  /** Fixed-rate runs at half of each server's maximum, per scenario. */
  productPageHalfRate?: Record<string, Record<string, HalfRateRow>>;
  /** Where the servers ran during the fixed-rate runs. */
  halfRatePlacement?: string;
  listingWarm: Record<string, ThroughputRow>;
  coldVsWarmSql: {
    productPage: { cold: PhaseCount; warm: PhaseCount; secondInstance: PhaseCount; coldConcurrent: PhaseCount };
    listing100: { cold: PhaseCount; warm: PhaseCount };
    noCacheReference: { productPageSqlPerRequest: number; listing100Sql: number };
  };
  redisRoundTrips: Record<
    string,
    {
      requests: number;
      sentPerRequest: number;
      sent: CommandCounts;
      insideLua: CommandCounts;
      executedPerRequest: number;
      executed: CommandCounts;
    }
  >;
  writeThenRead: Record<string, WriteCheck>;
  /** f: one gateway process against WORKERS=2 (src/server/cluster.ts), not pinned. */
  workersProductPageWarm?: Record<string, ThroughputRow>;
  /** The same runs of f with wrk as the load generator (absent when wrk is not installed). */
  workersProductPageWarmWrk?: Record<string, ThroughputRow>;
  workersPlacement?: string;
}

const OURS = 'cachegate';
const RAW = 'raw-ceiling';

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ratio = (a: number, b: number): string => {
  if (!(b > 0) || !Number.isFinite(a)) return 'n/a';
  const x = a / b;
  return `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}x`;
};
const table = (head: string[], rows: (string | number)[][]): string =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

function throughputSection(title: string, what: string, rows: Record<string, ThroughputRow>, r: Results): string {
  const names = Object.keys(rows);
  const main = table(
    [
      'server',
      'req/s',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'GraphQL errors',
      'socket errors',
      'SQL/req',
      'Redis cmds executed/req',
    ],
    names.map((name) => {
      const row = rows[name]!;
      return [
        name === OURS ? `**${name}**` : name,
        fmt(row.rps, 0),
        fmt(row.p50, 0),
        fmt(row.p99, 0),
        row.non2xx,
        row.graphqlErrors,
        row.socketErrors,
        fmt(row.sqlPerRequest, 2),
        fmt(row.redisPerRequest, 2),
      ];
    }),
  );
  const ours = rows[OURS];
  const ratios = ours
    ? table(
        ['cachegate vs', 'req/s (higher is better)', 'p50 (lower is better)', 'p99 (lower is better)'],
        names
          .filter((n) => n !== OURS)
          .map((name) => [
            name,
            ratio(ours.rps, rows[name]!.rps),
            ratio(ours.p50, rows[name]!.p50),
            ratio(ours.p99, rows[name]!.p99),
          ]),
      )
    : '';
  const note =
    'SQL/req: statements the server sent per request during the measured run. ' +
    'Redis executed/req: INFO commandstats, so it includes commands run inside Lua scripts (round trips are in d).';
  const { connections, seconds, warmupSeconds, rounds } = r.knobs;
  const median = rounds > 1 ? `, median of ${rounds} rounds` : '';
  const how =
    `${connections} connections, ${seconds} s per server ` + `after a warm pass and ${warmupSeconds} s of warm-up load`;
  const path = r.execution && rows[r.execution.path];
  const base = r.execution && rows[r.execution.baseline];
  const execution =
    path && base
      ? `\n**Execution path vs baseline** (${r.execution!.path} against the same at ${r.execution!.commit}, ` +
        `both with the response cache off, this run): ${ratio(path.rps, base.rps)} req/s, ` +
        `p99 ${ratio(path.p99, base.p99)}.\n`
      : '';
  return `## ${title}\n\n${what} ${how}${median}.\n\n${main}\n\n${note}\n\n${ratios}\n${execution}`;
}

/** The issue's latency target for the hit path, read against the raw ceiling of the same run. */
const HALF_RATE_P99_TARGET_MS = 5;

function halfRateVerdict(runs: Record<string, Record<string, HalfRateRow>>): string {
  const parts = Object.entries(runs).map(([scenario, servers]) => {
    const ours = servers[OURS];
    const raw = servers[RAW];
    if (!ours) return `${scenario}: not measured`;
    const verdict = ours.p99 < HALF_RATE_P99_TARGET_MS ? 'met' : 'not met';
    return `${scenario} ${fmt(ours.p99, 2)} ms (${verdict}${raw ? `; raw ceiling ${fmt(raw.p99, 2)} ms` : ''})`;
  });
  return `**Target** (cachegate's p99 under ${HALF_RATE_P99_TARGET_MS} ms at half its maximum): ${parts.join('; ')}.`;
}

export function halfRateSection(
  runs: Record<string, Record<string, HalfRateRow>>,
  knobs: Pick<Results['knobs'], 'connections' | 'seconds' | 'warmupSeconds' | 'halfRateRounds'>,
  placement: string,
): string {
  const rows = Object.entries(runs).flatMap(([scenario, servers]) =>
    Object.entries(servers).map(([name, row]) => [
      scenario,
      name === OURS ? `**${name}**` : name,
      row.rate,
      fmt(row.rps, 0),
      fmt(row.p50, 2),
      fmt(row.p90, 2),
      fmt(row.p99, 2),
      row.roundP99s && row.roundP99s.length > 1 ? row.roundP99s.map((p99) => fmt(p99, 1)).join(', ') : '',
      fmt(row.p999 ?? Number.NaN, 2),
      fmt(row.max, 1),
      fmt(row.sendLag?.p99 ?? Number.NaN, 2),
      row.slowSlices ? row.slowSlices.length : 'n/a',
      fmt(row.cpuMicrosPerRequest ?? Number.NaN, 1),
      fmt(row.runQueueMs ?? Number.NaN, 0),
      row.loop
        ? `${fmt(row.loop.delay.max, 1)} / ${row.loop.gc.minor?.count ?? 0}, ${row.loop.gc.minor?.maxMs ?? 0}`
        : 'n/a',
      row.loop ? `${row.loop.gc.major?.count ?? 0}, ${row.loop.gc.major?.maxMs ?? 0}` : 'n/a',
      row.non2xx + row.graphqlErrors + row.socketErrors + row.timeouts,
    ]),
  );
  const head = [
    'scenario',
    'server',
    'rate asked',
    'req/s got',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'p99 ms of each round',
    'p99.9 ms',
    'max ms',
    'send lag p99 ms',
    '100 ms slices over 10 ms',
    'server CPU µs/req',
    'server waited for a CPU ms',
    'server loop delay max ms / scavenges, longest ms',
    'mark-compacts, longest ms',
    'errors',
  ];
  return (
    '## p99 at half load\n\n' +
    'Each server at a fixed rate of half the req/s it reached above, ' +
    `${knobs.connections} keep-alive connections, ${knobs.seconds} s` +
    (knobs.warmupSeconds > 0
      ? ` after a warm pass and ${knobs.warmupSeconds} s at the same rate (not measured: a server idle while ` +
        'the others took their turns optimises its code again in its first few hundred ms of load)'
      : ' after a warm pass') +
    (knobs.halfRateRounds > 1 ? `, median-p99 of ${knobs.halfRateRounds} rounds taken in turns` : '') +
    (placement ? ` (${placement})` : '') +
    '. Open loop (bench/lib/paced.ts): request i is due at start + i / rate, goes out on the first free ' +
    'connection (or waits for one), and its latency runs from its due time to the end of its answer, so ' +
    'a stall counts for every request it delays (no coordinated omission) and for nothing else. ' +
    '_Send lag_: how late requests left after their due time (near 0: the schedule was kept; large: every ' +
    'connection was busy behind a stall). _100 ms slices over 10 ms_: of the run cut into 100 ms slices of ' +
    'due times, how many had a request slower than 10 ms (where the tail comes from: a few stalls or all ' +
    "along). _Server CPU_: the server process's own CPU time per request " +
    'at this rate (from /proc), higher than at full load because each request is handled alone. ' +
    '_Waited for a CPU_: time its event-loop thread was runnable but not running (/proc schedstat), ' +
    'taken by other processes on its CPU; any of it delays every request queued meanwhile. ' +
    '_Loop delay_ and _scavenges_: what the server process saw of its own event loop ' +
    '(monitorEventLoopDelay) and young-generation collections during the run. _Mark-compacts_: its ' +
    'full collections during the run and the longest pause of one (a pause holds every request due meanwhile, ' +
    "and the queue it leaves drains only at the server's spare capacity).\n\n" +
    `${table(head, rows)}\n\n${halfRateVerdict(runs)}\n`
  );
}

export function renderMarkdown(r: Results): string {
  const out: string[] = [];
  out.push(`# cachegate bench: ${r.date}`);
  out.push(
    `${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; ` +
      `load average ${r.machine.loadAverageBefore.join(' / ')} before, ` +
      `${r.machine.loadAverageAfter.join(' / ')} after. Seed: ${r.seed.products} products. ` +
      `Whole run ${r.durationSeconds} s. ` +
      'Every server ran in this same run over the same PostgreSQL and Redis, one at a time under load, ' +
      'in its own process; ' +
      `absolute numbers move with the machine's noise, the ratios are what to read. ` +
      `Sanity check: ${r.sanity.compared} answers compared across servers, ${r.sanity.mismatches.length} mismatches.` +
      (r.pinning ? ` CPUs: ${r.pinning}. Chart: latest.svg.` : ''),
  );

  const page = '`product(id)` with name, basePrice, price, category + parent, inventory;';
  if (r.productPageOneId)
    out.push(throughputSection('a1. product-page-one-id', `${page} one id, every request;`, r.productPageOneId, r));
  out.push(
    throughputSection(
      'a. product-page-warm',
      `${page} ${r.picks.wideIds ?? r.picks.hotIds} ids spread over the catalog, cycled;`,
      r.productPageWarm,
      r,
    ),
  );
  if (r.productPageHalfRate && Object.keys(r.productPageHalfRate).length)
    out.push(halfRateSection(r.productPageHalfRate, r.knobs, r.halfRatePlacement ?? ''));
  out.push(
    throughputSection(
      'b. listing-warm',
      '`products(first: 20, sort: PRICE_ASC, filter: {categoryId})` ' +
        'with nodes { id name basePrice inventory { available } } ' +
        `over categories ${r.picks.categoryIds.join(', ')};`,
      r.listingWarm,
      r,
    ),
  );

  const c = r.coldVsWarmSql;
  const phase = (
    label: string,
    p: { requests: number; sql: number; sqlPerRequest: number; redisPerRequest: number; errors: number },
  ): (string | number)[] => [label, p.requests, p.sql, fmt(p.sqlPerRequest, 2), fmt(p.redisPerRequest, 2), p.errors];
  out.push(
    '## c. cold-vs-warm-sql (cachegate only: counts, not time)\n\n' +
      "SQL statements from startGateway's onQuery hook; Redis commands from INFO commandstats.\n\n" +
      table(
        ['phase', 'requests', 'SQL', 'SQL/req', 'Redis cmds/req', 'errors'],
        [
          phase(
            `product page, ${c.productPage.cold.requests} distinct ids, ` +
              'cold (fresh prefix, empty Redis), one at a time',
            c.productPage.cold,
          ),
          phase('same ids again, warm (same instance)', c.productPage.warm),
          phase('same ids, second instance on the same prefix (empty L1, warm Redis)', c.productPage.secondInstance),
          phase(
            `same ids, cold on a fresh prefix, all ${c.productPage.coldConcurrent.requests} at once`,
            c.productPage.coldConcurrent,
          ),
          phase('`products(first: 100, sort: PRICE_ASC)` listing, cold', c.listing100.cold),
          phase('same listing, warm', c.listing100.warm),
        ],
      ) +
      `\n\nFor reference, no-cache sends ${fmt(c.noCacheReference.productPageSqlPerRequest, 2)} SQL statements ` +
      `per product page and ${c.noCacheReference.listing100Sql} for the 100-product listing, every time.\n`,
  );

  const list = (counts: CommandCounts): string =>
    Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  out.push(
    `## d. redis-round-trips (warm product page, ${r.knobs.roundTripRequests} requests each)\n\n` +
      'Sent: commands the server sent to Redis (MONITOR; a Lua script counts once). ' +
      'Executed: what Redis ran (INFO commandstats), including the commands inside scripts.\n\n' +
      table(
        ['server', 'sent/request', 'of which cache reads (GET/MGET)', 'executed/request', 'sent', 'run inside Lua'],
        Object.entries(r.redisRoundTrips).map(([name, d]) => [
          name === OURS ? `**${name}**` : name,
          fmt(d.sentPerRequest, 3),
          fmt(((d.sent.get ?? 0) + (d.sent.mget ?? 0)) / Math.max(1, d.requests), 3),
          fmt(d.executedPerRequest, 3),
          list(d.sent),
          list(d.insideLua),
        ]),
      ) +
      (r.redisRoundTrips[OURS]?.sent.evalsha
        ? "\n\ncachegate's EVALSHA is its per-IP rate limiter (rate-limiter-flexible), not a cache read; " +
          "the commands run inside Lua are that script's.\n"
        : '\n'),
  );

  out.push(
    `## e. write-then-read (a price write, then an immediate read of the same product, under concurrent load)\n\n` +
      table(
        [
          'server',
          'writes',
          'stale right after the write',
          'still stale 1 s later',
          'read errors',
          'write p50 ms',
          'load req/s meanwhile',
          'how the write was made',
        ],
        Object.entries(r.writeThenRead).map(([name, w]) => [
          name === OURS ? `**${name}**` : name,
          w.writes,
          w.staleImmediately,
          w.staleAfter1s,
          w.readErrors,
          fmt(w.writeMs.p50, 1),
          fmt(w.loadDuringTest.rps, 0),
          w.note,
        ]),
      ) +
      '\n',
  );
  if (r.workersProductPageWarm)
    out.push(renderWorkers(r.workersProductPageWarm, r.workersProductPageWarmWrk, r.workersPlacement ?? '', r.knobs));
  return `${out.join('\n\n')}\n`;
}

/** Section f: WORKERS=1 against WORKERS=2, with each load generator, and where the CPU went. */
export function renderWorkers(
  autocannonRows: Record<string, ThroughputRow>,
  wrkRows: Record<string, ThroughputRow> | undefined,
  placement: string,
  knobs: { connections: number; seconds: number; rounds: number },
): string {
  const byGenerator = { autocannon: autocannonRows, ...(wrkRows && { wrk: wrkRows }) };
  const rows = Object.entries(byGenerator).flatMap(([generator, servers]) =>
    Object.entries(servers).map(([name, row]) => {
      const cpu = row.cpu;
      return [
        generator,
        name,
        fmt(row.rps, 0),
        fmt(row.p50, 2),
        fmt(row.p99, 2),
        row.non2xx + row.graphqlErrors + row.socketErrors + row.timeouts,
        cpu ? fmt(cpu.server, 1) : 'n/a',
        cpu ? fmt(cpu.workers, 1) : 'n/a',
        cpu ? fmt(cpu.generator, 1) : 'n/a',
      ];
    }),
  );
  const ratios = Object.entries(byGenerator)
    .map(([generator, servers]) => {
      const one = servers['cachegate WORKERS=1'];
      const two = servers['cachegate WORKERS=2'];
      return one && two ? `${generator}: WORKERS=2 served ${ratio(two.rps, one.rps)} the req/s of WORKERS=1` : '';
    })
    .filter(Boolean)
    .join('; ');
  const head = [
    'generator',
    'server',
    'req/s',
    'p50 ms',
    'p99 ms',
    'errors',
    'CPU µs/req: gateway or primary',
    'workers',
    'load generator',
  ];
  return (
    '## f. product-page-warm, WORKERS=1 against WORKERS=2\n\n' +
    `The page of a over the hot ids; the other servers stopped; ${placement}. ` +
    `${knobs.connections} connections, ${knobs.seconds} s per run after a warm pass, ` +
    (knobs.rounds > 1 ? `median of ${knobs.rounds} rounds taken in turns, ` : '') +
    'once with autocannon (JavaScript, in the bench process) and once with wrk (C, one thread, bodies cycled ' +
    'and every answer checked by bench/lib/wrk-bodies.lua). On this 2-CPU machine the load generator, ' +
    'PostgreSQL and Redis share the two CPUs with the workers: a second worker can only use what the generator ' +
    'leaves, so the gain of a second core is understated, most with autocannon, which needs most of a core ' +
    'itself. CPU per request from /proc: the gateway (WORKERS=1) or the primary (WORKERS=2, which only ' +
    'accepts connections and hands them over), the workers together, and the load generator.\n\n' +
    `${table(head, rows)}\n\n${ratios}.\n`
  );
}
