// Child process: our gateway, exactly as production composes it (startGateway), over the bench's
// PostgreSQL and Redis. L1_MAX_BYTES=1 in the environment gives the "no L1" variant (every entry is
// larger than the LRU, so nothing is kept in-process and every lookup goes to Redis).
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config.ts';
import { startGateway } from '../../src/server/app.ts';
import { serveCommands } from './ipc.ts';

let sql = 0;
const config = loadConfig({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  // Production's default level (info) unless the run asks for another: a hit must not pay for logging.
  LOG_LEVEL: process.env.LOG_LEVEL,
  DATABASE_URL: process.env.DATABASE_URL,
  DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE,
  REDIS_URL: process.env.REDIS_URL,
  CACHE_PREFIX: process.env.CACHE_PREFIX ?? 'bench',
  L1_MAX_BYTES: process.env.L1_MAX_BYTES,
  RESPONSE_CACHE: process.env.RESPONSE_CACHE,
  SEED_ON_EMPTY: 'false',
  // Production refuses to start without it; a bench run's keys live as long as the run.
  KEY_HASH_SECRET: randomBytes(24).toString('hex'),
  // All bench traffic comes from 127.0.0.1: the per-address caps would measure themselves.
  RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: '1000000000',
  WS_MAX_SOCKETS_PER_IP: '1000000',
  // Limits the bench raises (bench/run.ts gatewayEnv), and any other limit knob given to `npm run bench`.
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) => /^(RATE_LIMIT|QUERY_MAX|TICKETING|WS)_/.test(name)),
  ),
});
const gateway = await startGateway(config, { onQuery: () => void (sql += 1) });
serveCommands(gateway.url, { stats: () => ({ sql }), stop: () => gateway.stop() });
