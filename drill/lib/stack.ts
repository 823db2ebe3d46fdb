// The servers a drill runs against: one PostgreSQL and one redis-server for the whole run (the bench's
// infra: free ports, temp dirs, migrated and seeded once), a fresh copy of the seeded database per
// scenario, and gateway child processes (`tsx src/main.ts`, as production runs it) the scenario starts.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { SEED_PASSWORD } from '../../prisma/seed.ts';
import { MERDEKA_EVENT_NAME } from '../../prisma/seed/ticketing.ts';
import { DATABASE, startInfra, type Infra } from '../../bench/lib/infra.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../../test/support/database.ts';
import { getFreePort } from '../../test/support/free-port.ts';
import { spawnGateway, waitUntilReady, type ChildGateway } from '../../test/support/gateway-process.ts';
import { createShoppers, type Shopper } from '../../test/support/shoppers.ts';
import { post, SIGN_IN } from './http.ts';

const UNLIMITED = '1000000000';

/** Production settings, with the per-client limits out of the way: the drill is one client sending a lot. */
const GATEWAY_ENV: Record<string, string> = {
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  KEY_HASH_SECRET: 'drill-secret-0123456789abcdef',
  LOG_LEVEL: process.env.DRILL_LOG_LEVEL ?? 'warn', // DRILL_LOG_LEVEL=info: more to read in DRILL_LOGS
  SEED_ON_EMPTY: 'false',
  RATE_LIMIT_READS_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_WRITES_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_HOLDS_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_SIGNINS_PER_MINUTE: UNLIMITED,
  RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: UNLIMITED,
  WS_MAX_SOCKETS_PER_IP: '100000',
  TICKETING_MAX_SEATS_PER_USER: '100',
  TICKETING_HOLD_TTL_SECONDS: '3600',
};

export interface DrillGateway {
  name: string;
  port: number;
  url: string;
  wsUrl: string;
  base: string;
  metricsUrl: string;
  child: ChildGateway;
  /** SIGKILL to the gateway's process group: no drain, no goodbye. */
  kill(): void;
}

export interface Fixtures {
  eventId: string;
  /** Available seats of the on-sale event, shuffled: the holds take them in this order. */
  seatIds: string[];
  /** Products the readers ask for (warmed before the load). */
  hotProductIds: number[];
  /** Products the admin writer renames. */
  writeProductIds: number[];
  /** Products the shoppers buy, with plenty of stock. */
  checkoutProductIds: number[];
  address: { line1: string; postcode: string; city: string; state: string };
  shoppers: Shopper[];
  admin: Record<string, string>;
}

export interface DrillStack {
  infra: Infra;
  database: TestDatabase;
  cachePrefix: string;
  fixtures: Fixtures;
  gateways: DrillGateway[];
  /** Starts `count` gateways on the scenario's database (REDIS_URL: the shared server unless `redisUrl`). */
  startGateways(count: number, options?: { redisUrl?: string; env?: Record<string, string> }): Promise<DrillGateway[]>;
  /** A pg client on the scenario's database (closed with the stack). */
  sql(): Promise<pg.Client>;
  /** The gateways' error-level log lines so far (pino JSON; the gateway never logs PII), at most `max`. */
  errorLines(max: number): string[];
  close(): Promise<void>;
}

export interface SharedInfra {
  infra: Infra;
  destroy(): Promise<void>;
}

/** PostgreSQL + redis-server for every scenario of the run; killed on process exit too. */
export async function startSharedInfra(): Promise<SharedInfra> {
  const destroyers: (() => Promise<void>)[] = [];
  const killers: (() => void)[] = [];
  const killAll = (): void => {
    for (const kill of killers) kill();
  };
  process.once('exit', killAll);
  const infra = await startInfra('small', (destroy, killNow) => {
    destroyers.push(destroy);
    killers.push(killNow);
  });
  return {
    infra,
    async destroy() {
      process.off('exit', killAll);
      await Promise.allSettled(destroyers.map((destroy) => destroy()));
    },
  };
}

async function fixtures(client: pg.Client): Promise<Omit<Fixtures, 'shoppers' | 'admin'>> {
  const event = await client.query<{ id: string }>('SELECT id FROM "Event" WHERE name = $1', [MERDEKA_EVENT_NAME]);
  const eventId = event.rows[0]?.id;
  if (!eventId) throw new Error(`the seed has no "${MERDEKA_EVENT_NAME}"`);
  const seats = await client.query<{ id: string }>(
    `SELECT id FROM "Seat" WHERE "eventId" = $1 AND status = 'AVAILABLE' ORDER BY md5(id::text)`,
    [eventId],
  );
  const products = await client.query<{ id: number }>(
    'SELECT p.id FROM "Product" p JOIN "Inventory" i ON i."productId" = p.id ORDER BY p.id LIMIT 40',
  );
  const ids = products.rows.map((r) => r.id);
  const checkoutProductIds = ids.slice(30, 33);
  // Stock the checkouts cannot run out of in a drill, so every refused checkout is a fault, not a sell-out.
  await client.query('UPDATE "Inventory" SET "onHand" = 100000, reserved = 0 WHERE "productId" = ANY($1)', [
    checkoutProductIds,
  ]);
  const [address] = (
    await client.query<Fixtures['address']>(
      `SELECT '1 Jalan Drill' AS line1, p.code AS postcode, p.city, s.name AS state
         FROM "Postcode" p JOIN "State" s ON s.id = p."stateId" WHERE s.code = 'KUL' ORDER BY p.code LIMIT 1`,
    )
  ).rows;
  if (!address) throw new Error('the seed has no Kuala Lumpur postcode');
  return {
    eventId,
    seatIds: seats.rows.map((r) => r.id),
    hotProductIds: ids.slice(0, 20),
    writeProductIds: ids.slice(20, 25),
    checkoutProductIds,
    address,
  };
}

/** A fresh copy of the seeded database and the fixtures on it; gateways are started by the scenario. */
export async function openStack(infra: Infra, shopperCount: number): Promise<DrillStack> {
  const database = await createDatabaseFromTemplate(infra.pg.adminUrl, DATABASE, 'cg_drill');
  const clients: pg.Client[] = [];
  const gateways: DrillGateway[] = [];
  const sql = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: database.url, application_name: 'cachegate-drill' });
    client.on('error', () => undefined); // the postgres-stop drill cuts every connection on purpose
    await client.connect();
    clients.push(client);
    return client;
  };
  const setup = await sql();
  const base = await fixtures(setup);
  const shoppers = await createShoppers(database.url, shopperCount);
  const cachePrefix = `drill${randomBytes(3).toString('hex')}`;
  let admin: Record<string, string> | undefined;

  const startOne = async (
    index: number,
    options: { redisUrl?: string; env?: Record<string, string> },
  ): Promise<DrillGateway> => {
    const [port, metricsPort] = [await getFreePort(), await getFreePort()];
    const child = spawnGateway({
      ...GATEWAY_ENV,
      DATABASE_URL: database.url,
      REDIS_URL: options.redisUrl ?? infra.redis.url,
      CACHE_PREFIX: cachePrefix,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      ...options.env,
    });
    const gateway: DrillGateway = {
      name: `gateway-${index + 1}`,
      port,
      base: `http://127.0.0.1:${port}`,
      url: `http://127.0.0.1:${port}/graphql`,
      wsUrl: `ws://127.0.0.1:${port}/graphql`,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      child,
      kill: () => child.killGroup(),
    };
    gateways.push(gateway);
    await waitUntilReady(child, port, 90_000);
    return gateway;
  };

  const stack: DrillStack = {
    infra,
    database,
    cachePrefix,
    fixtures: { ...base, shoppers, admin: {} },
    gateways,
    async startGateways(count, options = {}) {
      const first = gateways.length;
      const started = await Promise.all(Array.from({ length: count }, (_, k) => startOne(first + k, options)));
      if (!admin) {
        const reply = await post<{ signIn: { token: string } }>(started[0]!.url, SIGN_IN, {
          email: 'admin@cachegate.test',
          password: SEED_PASSWORD,
        });
        const token = reply.data?.signIn.token;
        if (!token) throw new Error(`admin sign-in failed: ${JSON.stringify(reply.errors ?? reply.error)}`);
        admin = { authorization: `Bearer ${token}` };
        stack.fixtures.admin = admin;
      }
      return started;
    },
    sql,
    errorLines(max) {
      const lines = gateways.flatMap((g) =>
        g.child
          .stdout()
          .split('\n')
          .filter((line) => line.includes('"level":50')),
      );
      return lines.slice(0, max);
    },
    async close() {
      for (const gateway of gateways) gateway.kill();
      // DRILL_LOGS=<dir>: keep each gateway's output (pino JSON lines) to look into a failed drill.
      const logDir = process.env.DRILL_LOGS;
      if (logDir) {
        await mkdir(logDir, { recursive: true });
        for (const g of gateways) {
          await writeFile(join(logDir, `${cachePrefix}-${g.name}.log`), g.child.stdout() + g.child.stderr());
        }
      }
      await Promise.allSettled(gateways.map((g) => g.child.exited));
      await Promise.allSettled(clients.map((c) => c.end()));
      await database.drop().catch(() => undefined);
    },
  };
  return stack;
}
