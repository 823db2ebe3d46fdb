// `npx tsx bench/hit-path.ts`: a short measurement of the warm hit path only, for before/after checks
// while the full bench (bench/run.ts) is left to a quiet machine. It starts one private PostgreSQL
// (small seed) and redis-server, then one cachegate child per checkout named in HIT_PATH_TREES
// (`name=/abs/path,…`; default: this checkout), and interleaves short autocannon runs of the product
// page on one id and over all hot ids, so every checkout meets the same machine noise.
// HIT_PATH_PROFILE=<name> writes a V8 CPU profile of that child into bench/results/cpu-profile.tmp/.
// HIT_PATH_COMPILED=<name>,… runs those checkouts' bench/servers/cachegate.js with plain node (JS emitted
// beside the sources, e.g. `npx tsc -p tsconfig.json --noEmit false --rewriteRelativeImportExtensions
// --allowImportingTsExtensions false` in a copy) instead of through tsx.
// HIT_PATH_PEERS=1 adds, in the same interleaved rounds, Apollo's response cache on the same Redis and
// the raw node:http ceiling (bytes learned from the first checkout), so the ratios the issue asks for
// come out of one short run. HIT_PATH_PIN=1 pins as bench/run.ts does (servers, PostgreSQL and Redis on
// CPU 0, the load generator on CPU 1).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import { ChildServer, type ServerSpec } from './lib/children.ts';
import { cpuSeconds } from './lib/cpu.ts';
import { pick, startInfra } from './lib/infra.ts';
import { runLoad } from './lib/load.ts';
import { describeFixedRate, fixedRate } from './lib/paced.ts';
import { pinServersAndLoad } from './lib/pinning.ts';
import { body, PRODUCT_PAGE } from './lib/queries.ts';
import { pool } from '../test/support/pool.ts';

const seconds = Number(process.env.HIT_PATH_SECONDS ?? 5);
const rounds = Number(process.env.HIT_PATH_ROUNDS ?? 3);
const connections = Number(process.env.HIT_PATH_CONNECTIONS ?? 32);
const here = new URL('..', import.meta.url).pathname;
const trees = (process.env.HIT_PATH_TREES ?? `this=${here}`).split(',').map((pair) => {
  const [name, path] = pair.split('=');
  return { name: name!, path: path! };
});
const profiled = (name: string): Partial<ServerSpec> =>
  process.env.HIT_PATH_PROFILE?.split(',').includes(name)
    ? { cpuProfileDir: new URL(`./results/cpu-profile.tmp/${name}/`, import.meta.url).pathname }
    : {};
/** HIT_PATH_NODE_FLAGS=`name:--flag --flag,other:--flag`: node/V8 flags for those checkouts' children. */
const nodeFlags = (name: string): string[] =>
  (process.env.HIT_PATH_NODE_FLAGS ?? '')
    .split(',')
    .filter((entry) => entry.startsWith(`${name}:`))
    .flatMap((entry) =>
      entry
        .slice(name.length + 1)
        .split(' ')
        .filter(Boolean),
    );
const log = (message: string): void => console.error(`[hit-path] ${message}`);

const stops: (() => Promise<void>)[] = [];
try {
  const infra = await startInfra('small', (destroy) => stops.push(destroy));
  const sql = new pg.Client({ connectionString: infra.databaseUrl });
  await sql.connect();
  const picks = await pick(sql, 100, 10);
  await sql.end();
  const secret = randomBytes(24).toString('hex');
  const servers: { name: string; server: ChildServer }[] = [];
  for (const [i, tree] of trees.entries()) {
    const server = await ChildServer.start({
      name: tree.name,
      entry: 'cachegate.ts',
      root: tree.path,
      compiled: process.env.HIT_PATH_COMPILED?.split(',').includes(tree.name) === true,
      nodeFlags: nodeFlags(tree.name),
      env: {
        DATABASE_URL: infra.databaseUrl,
        REDIS_URL: infra.redis.url,
        CACHE_PREFIX: `hp${i}`,
        KEY_HASH_SECRET: secret,
        RATE_LIMIT_READS_PER_MINUTE: '1000000000',
        WARM_ON_START: 'false',
      },
      ...profiled(tree.name),
    });
    stops.unshift(() => server.stop());
    servers.push({ name: tree.name, server });
  }
  const peersWanted = process.env.HIT_PATH_PEERS ?? '';
  if (peersWanted) {
    const peers: ServerSpec[] = [
      {
        name: 'apollo-response-cache',
        entry: 'baseline.ts',
        env: { DATABASE_URL: infra.databaseUrl, REDIS_URL: infra.redis.url, BASELINE_MODE: 'apollo-response-cache' },
      },
      { name: 'raw-ceiling', entry: 'raw.ts', env: { SOURCE_URL: servers[0]!.server.url } },
    ];
    for (const spec of peers.filter((p) => peersWanted === '1' || peersWanted.split(',').includes(p.name))) {
      const server = await ChildServer.start({ ...spec, ...profiled(spec.name) });
      stops.unshift(() => server.stop());
      servers.push({ name: spec.name, server });
    }
  }
  if (process.env.HIT_PATH_PIN === '1') {
    const redis = new Redis(infra.redis.url);
    const redisPid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    await redis.quit();
    const postmasterPid = Number(readFileSync(`${infra.pg.dir}/data/postmaster.pid`, 'utf8').split('\n')[0]);
    log(pinServersAndLoad([...servers.map((s) => s.server.pid!), redisPid, postmasterPid]));
  }
  const scenarios = {
    'one id': [body(PRODUCT_PAGE, { id: String(picks.hotIds[0]) })],
    [`${picks.hotIds.length} ids`]: picks.hotIds.map((id) => body(PRODUCT_PAGE, { id: String(id) })),
  };
  const rows: string[] = [];
  for (const [scenario, bodies] of Object.entries(scenarios)) {
    const results: Record<string, number[]> = {};
    const p99: Record<string, number[]> = {};
    /** The server process's own CPU time per request (not Redis's or PostgreSQL's). */
    const cpu: Record<string, number[]> = {};
    for (const { server } of servers) {
      await pool(bodies, 8, (text) =>
        fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text }).then((r) =>
          r.arrayBuffer(),
        ),
      );
      await runLoad(server.url, bodies, { connections, seconds: 1 });
    }
    for (let round = 0; round < rounds; round += 1) {
      for (const { name, server } of servers) {
        const cpuBefore = cpuSeconds(server.pid!);
        const result = await runLoad(server.url, bodies, { connections, seconds });
        const cpuMicros = ((cpuSeconds(server.pid!) - cpuBefore) * 1e6) / Math.max(1, result.requests);
        if (result.non2xx || result.graphqlErrors) throw new Error(`${name}: ${JSON.stringify(result)}`);
        (results[name] ??= []).push(result.rps);
        (p99[name] ??= []).push(result.p99);
        (cpu[name] ??= []).push(cpuMicros);
        log(
          `${scenario} round ${round + 1} ${name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99} ms, ` +
            `${cpuMicros.toFixed(1)} µs CPU/req`,
        );
      }
    }
    const medianOf = (values: number[] | undefined): number | undefined => {
      const sorted = [...(values ?? [])].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)];
    };
    const median = (name: string): number | undefined => medianOf(results[name]);
    const ratios = (name: string): string =>
      ['apollo-response-cache', 'raw-ceiling']
        .filter((peer) => peer !== name && median(peer))
        .map((peer) => `${(median(name)! / median(peer)!).toFixed(2)}x ${peer}`)
        .join(', ');
    // HIT_PATH_RATES=5000,10000,…: every server in turn at each of these fixed rates (a latency-vs-load curve).
    for (const rate of (process.env.HIT_PATH_RATES ?? '').split(',').filter(Boolean).map(Number)) {
      for (let round = 0; round < rounds; round += 1) {
        for (const { name, server } of servers) {
          const row = await fixedRate(server, bodies, { rate, seconds, connections });
          log(`${scenario} fixed rate ${name}: ${describeFixedRate(row)}`);
        }
      }
    }
    if (process.env.HIT_PATH_HALF_RATE === '1') {
      for (let round = 0; round < rounds; round += 1) {
        for (const { name, server } of servers) {
          const rate = Math.floor(median(name)! / 2);
          const row = await fixedRate(server, bodies, { rate, seconds, connections });
          log(`${scenario} half rate ${name}: ${describeFixedRate(row)}`);
          // HIT_PATH_OLD_RATE=1: the same rate through autocannon's overallRate, the bench's former method.
          if (process.env.HIT_PATH_OLD_RATE === '1') {
            const old = await runLoad(server.url, bodies, { connections, seconds, rate });
            log(
              `${scenario} half rate ${name} (autocannon overallRate): p50 ${old.p50} p99 ${old.p99} max ${old.max} ms`,
            );
          }
        }
      }
    }
    for (const { name } of servers) {
      rows.push(
        `| ${scenario} | ${name} | ${median(name)!.toFixed(0)} | ` +
          `${results[name]!.map((n) => n.toFixed(0)).join(' / ')} | ${p99[name]!.join(' / ')} | ` +
          `${medianOf(cpu[name])!.toFixed(1)} | ${ratios(name)} |`,
      );
    }
  }
  process.stdout.write(
    '| scenario | checkout | median req/s | rounds | p99 ms | CPU µs/req (median) | req/s ratios of medians |\n' +
      '| --- | --- | --- | --- | --- | --- | --- |\n',
  );
  process.stdout.write(`${rows.join('\n')}\n`);
} finally {
  for (const stop of stops) await stop().catch(() => undefined);
}
process.exit(0);
