// `npm run bench:storefront`: the storefront's two load numbers, on the same private PostgreSQL (full
// seed) and redis-server as `npm run bench`, with cachegate in a child process as production composes
// it (NODE_ENV=production, so it warms its cache at start).
//   a. validatePostcode warm, through the whole gateway: p50/p99 and req/s; beside it the same load on
//      cachegate-no-l1 (every lookup a Redis MGET), and the warm product page for scale.
//   b. checkout: 100 clients, each a signed-in shopper, over 100 products; each iteration adds one unit
//      to the cart and checks out with a fresh idempotency key. Checkouts/s, p50/p99 of the checkout call.
// Writes bench/results/storefront.json and .md and prints the Markdown.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import type pg from 'pg';
import { createShoppers, type Shopper } from '../test/support/shoppers.ts';
import { ChildServer } from './lib/children.ts';
import { startInfraWithClient } from './lib/infra.ts';
import { runLoad, type LoadResult } from './lib/load.ts';
import { body, post, PRODUCT_PAGE } from './lib/queries.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CHECKOUT_CLIENTS = 100;
const SCALE = process.env.BENCH_SEED_SCALE === 'small' ? 'small' : 'full';
const RATE_LIMIT = '1000000000';

const log = (message: string): void => console.error(`[bench:storefront] ${message}`);

const VALIDATE = /* GraphQL */ `query Validate($code: String!, $city: String, $state: String) {
  validatePostcode(code: $code, city: $city, state: $state) { valid matches city state { code } }
}`;
const ADD = /* GraphQL */ `mutation Add($id: ID!) { addToCart(productId: $id, quantity: 1) { itemCount } }`;
const CHECKOUT = /* GraphQL */ `mutation Checkout($address: ShippingAddressInput!, $key: String!) {
  checkout(shippingAddress: $address, idempotencyKey: $key) { id total }
}`;

interface CheckoutResult {
  clients: number;
  products: number;
  seconds: number;
  orders: number;
  ordersPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: Record<string, number>;
  /** The first message of each error code, to tell what went wrong. */
  firstMessage: Record<string, string>;
}

const cleanups: (() => Promise<void>)[] = [];
const killers: (() => void)[] = [];
process.once('exit', () => {
  for (const kill of killers) kill();
});

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startServer(name: string, infra: { databaseUrl: string; redisUrl: string }, env = {}) {
  const server = await ChildServer.start({
    name,
    entry: 'cachegate.ts',
    env: {
      DATABASE_URL: infra.databaseUrl,
      REDIS_URL: infra.redisUrl,
      CACHE_PREFIX: name.replace(/[^a-z0-9]/g, ''),
      RATE_LIMIT_READS_PER_MINUTE: RATE_LIMIT,
      RATE_LIMIT_WRITES_PER_MINUTE: RATE_LIMIT,
      ...env,
    },
  });
  cleanups.push(() => server.stop());
  killers.push(() => server.kill());
  return server;
}

async function postcodeBodies(sql: pg.Client): Promise<string[]> {
  const { rows } = await sql.query<{ code: string; city: string; state: string }>(
    `SELECT p.code, p.city, s.name AS state FROM "Postcode" p JOIN "State" s ON s.id = p."stateId"
      ORDER BY md5(p.code || p.city) LIMIT 500`,
  );
  return rows.map((r) => body(VALIDATE, r));
}

async function checkoutLoad(url: string, shoppers: readonly Shopper[], productIds: readonly number[], address: object) {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const firstMessage: Record<string, string> = {};
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    shoppers.map(async (shopper, client) => {
      for (let n = 0; performance.now() < deadline; n += 1) {
        const productId = productIds[(client + n) % productIds.length]!;
        const added = await post(url, ADD, { id: String(productId) }, shopper.headers);
        for (const error of added.errors ?? []) firstMessage[`addToCart ${error.extensions?.code}`] ??= error.message;
        const t0 = performance.now();
        const reply = await post(url, CHECKOUT, { address, key: `bench-${client}-${n}` }, shopper.headers);
        latencies.push(performance.now() - t0);
        for (const error of reply.errors ?? []) {
          const code = String(error.extensions?.code ?? 'UNKNOWN');
          errors[code] = (errors[code] ?? 0) + 1;
          firstMessage[code] ??= error.message;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  const failed = Object.values(errors).reduce((a, b) => a + b, 0);
  return {
    clients: shoppers.length,
    products: productIds.length,
    seconds,
    orders: latencies.length - failed,
    ordersPerSecond: (latencies.length - failed) / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? 0,
    errors,
    firstMessage,
  } satisfies CheckoutResult;
}

const row = (name: string, r: LoadResult): string =>
  `| ${name} | ${Math.round(r.rps)} | ${r.p50} | ${r.p99} | ${r.non2xx + r.graphqlErrors + r.socketErrors} |`;

async function main(): Promise<void> {
  log(`starting PostgreSQL and redis-server, seeding (${SCALE})`);
  const { infra, sql } = await startInfraWithClient(SCALE, cleanups, killers);
  const servers = { databaseUrl: infra.databaseUrl, redisUrl: infra.redis.url };

  // Before any gateway starts: its start-up warming caches stock, and a write behind its back is not seen.
  const products = (
    await sql.query<{ id: number }>(
      `UPDATE "Inventory" SET "onHand" = 1000000, reserved = 0
        WHERE "productId" IN (SELECT id FROM "Product" ORDER BY id LIMIT 100) RETURNING "productId" AS id`,
    )
  ).rows.map((r) => r.id);
  const bodies = await postcodeBodies(sql);
  const productBodies = (await sql.query<{ id: number }>('SELECT id FROM "Product" ORDER BY id LIMIT 200')).rows.map(
    (r) => body(PRODUCT_PAGE, { id: String(r.id) }),
  );
  const ours = await startServer('cachegate', servers);
  const noL1 = await startServer('cachegate-no-l1', servers, { L1_MAX_BYTES: '1' });
  const postcode: Record<string, LoadResult> = {};
  for (const [name, server, load] of [
    ['cachegate validatePostcode', ours, bodies],
    ['cachegate-no-l1 validatePostcode', noL1, bodies],
    ['cachegate product page (for scale)', ours, productBodies],
  ] as const) {
    await runLoad(server.url, load, { connections: CONNECTIONS, seconds: 2 }); // warm-up
    log(`measuring ${name}`);
    // One connection: the latency of a request on its own. 32: throughput (latency then includes queueing).
    postcode[`${name}, 1 connection`] = await runLoad(server.url, load, { connections: 1, seconds: SECONDS });
    postcode[`${name}, ${CONNECTIONS} connections`] = await runLoad(server.url, load, {
      connections: CONNECTIONS,
      seconds: SECONDS,
    });
  }
  await noL1.stop();

  log('preparing 100 shoppers');
  const shoppers = await createShoppers(infra.databaseUrl, CHECKOUT_CLIENTS);
  const [address] = (
    await sql.query(
      `SELECT '1 Jalan Bench' AS line1, p.code AS postcode, p.city, s.name AS state
         FROM "Postcode" p JOIN "State" s ON s.id = p."stateId" WHERE s.code = 'KUL' ORDER BY p.code LIMIT 1`,
    )
  ).rows;
  log('measuring checkout');
  const checkout = await checkoutLoad(ours.url, shoppers, products, address);
  const [{ orders }] = (await sql.query<{ orders: number }>('SELECT count(*)::int AS orders FROM "Order"')).rows as [
    { orders: number },
  ];

  const md = [
    `# storefront bench (${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores, seed ${SCALE})`,
    '',
    `## a. validatePostcode, warm, 1 and ${CONNECTIONS} connections, ${SECONDS} s each ` +
      '(500 real postcode/city/state triples)',
    '',
    '| server | req/s | p50 ms | p99 ms | errors |',
    '| --- | --- | --- | --- | --- |',
    ...Object.entries(postcode).map(([name, r]) => row(name, r)),
    '',
    `## b. checkout, ${checkout.clients} clients over ${checkout.products} products, ${Math.round(checkout.seconds)} s`,
    '',
    `Load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')}`,
    '',
    '| orders | orders/s | checkout p50 ms | p99 ms | max ms | errors | orders in PostgreSQL |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    `| ${[
      checkout.orders,
      checkout.ordersPerSecond.toFixed(1),
      ...[checkout.p50, checkout.p99, checkout.max].map(Math.round),
      JSON.stringify(checkout.errors),
      orders,
    ].join(' | ')} |`,
    ...Object.entries(checkout.firstMessage).map(([code, message]) => `- ${code}: ${message}`),
    '',
  ].join('\n');
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(new URL('./results/storefront.md', import.meta.url), md);
  const summary = { seconds: SECONDS, connections: CONNECTIONS, scale: SCALE, postcode, checkout, orders };
  await writeFile(new URL('./results/storefront.json', import.meta.url), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(md);
}

try {
  await main();
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(`cleanup: ${error}`));
}
