// Child process: our gateway, exactly as production composes it (startGateway), over the bench's
// PostgreSQL and Redis. L1_MAX_BYTES=1 in the environment gives the "no L1" variant (every entry is
// larger than the LRU, so nothing is kept in-process and every lookup goes to Redis). WORKERS=2 runs
// the primary of src/server/cluster.ts here, and the workers it forks run this file again as gateways.
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { startGateway } from '../../src/server/app.ts';
import { startPrimary } from '../../src/server/cluster.ts';
import { joinCluster } from '../../src/server/cluster-worker.ts';
import { serveCommands } from './ipc.ts';

const workers = Number(process.env.WORKERS ?? '1');
// The workers share one port: the primary picks a free one and they inherit it through the environment.
if (workers > 1 && cluster.isPrimary) process.env.PORT = String(await freePort());
// Production refuses to start without it; a bench run's keys live as long as the run (and the workers of
// one set share it, or their counters would not be shared).
process.env.KEY_HASH_SECRET ??= randomBytes(24).toString('hex');

let sql = 0;
const config = loadConfig({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: process.env.PORT ?? '0',
  // Production's default level (info) unless the run asks for another: a hit must not pay for logging.
  LOG_LEVEL: process.env.LOG_LEVEL,
  DATABASE_URL: process.env.DATABASE_URL,
  DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE,
  REDIS_URL: process.env.REDIS_URL,
  CACHE_PREFIX: process.env.CACHE_PREFIX ?? 'bench',
  L1_MAX_BYTES: process.env.L1_MAX_BYTES,
  RESPONSE_CACHE: process.env.RESPONSE_CACHE,
  SEED_ON_EMPTY: 'false',
  KEY_HASH_SECRET: process.env.KEY_HASH_SECRET,
  WORKERS: String(workers),
  METRICS_TOKEN: process.env.METRICS_TOKEN,
  // All bench traffic comes from 127.0.0.1: the per-address caps would measure themselves.
  RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: '1000000000',
  WS_MAX_SOCKETS_PER_IP: '1000000',
  // Limits the bench raises (bench/run.ts gatewayEnv), and any other limit knob given to `npm run bench`.
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => /^(RATE_LIMIT|QUERY_MAX|TICKETING|WS)_/.test(name)),
  ),
});
const worker = joinCluster();
if (workers > 1 && !worker) {
  const primary = await startPrimary(config, createLogger('silent'));
  const url = `http://127.0.0.1:${config.port}/graphql`;
  serveCommands(url, { stats: () => sqlOfAllWorkers(url), stop: () => primary.stop() });
} else {
  const gateway = await startGateway(config, { onQuery: () => void (sql += 1), ...(worker && { worker }) });
  if (worker) worker.ready();
  else serveCommands(gateway.url, { stats: () => ({ sql }), stop: () => gateway.stop() });
}

/** The workers' SQL statements, added up: /metrics of a set answers for all of them. */
async function sqlOfAllWorkers(url: string): Promise<{ sql: number }> {
  const response = await fetch(url.replace(/\/graphql$/, '/metrics'), {
    headers: { authorization: `Bearer ${process.env.METRICS_TOKEN}` },
  });
  const line = (await response.text()).split('\n').find((l) => l.startsWith('cachegate_db_queries_total '));
  return { sql: Number(line?.split(' ')[1] ?? Number.NaN) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
