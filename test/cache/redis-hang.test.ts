// A hung Redis (the process is frozen with SIGSTOP: connections stay open, nothing answers, as with a
// network black hole or a stalled primary) must not be waited on either: commands time out (500 ms),
// the circuit opens after a few failures, and from then on requests skip Redis. (redis-outage.test.ts
// covers a Redis that goes away and closes its sockets.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';
import { metricSum, type TestGateway } from './kit.ts';
import { dataOf, waitUntil } from '../support/kit.ts';

const PRODUCT = 'query Product($id: ID!) { product(id: $id) { id name } }';
/** Requests allowed to pay command timeouts before the circuit opens. */
const GRACE_REQUESTS = 3;
const MAX_LATENCY_MS = 1_000;

let redisServer: RedisServer;
let gateway: TestGateway;
let frozenPid: number | undefined;

const thaw = (): void => {
  if (frozenPid === undefined) return;
  try {
    process.kill(frozenPid, 'SIGCONT');
  } catch {
    // already gone
  }
  frozenPid = undefined;
};

beforeAll(async () => {
  redisServer = await startRedis();
  gateway = await startTestGateway({ databaseUrl: inject('databaseUrl'), redisUrl: redisServer.url });
  for (const id of ['1', '2', '3']) dataOf(await gateway.query(PRODUCT, { id }));
});

afterAll(async () => {
  thaw(); // a stopped process cannot act on the SIGTERM of destroy()
  await gateway?.stop();
  await redisServer?.destroy();
});

describe('redis-server frozen (SIGSTOP)', () => {
  it(`the circuit opens within ${GRACE_REQUESTS} requests and later requests take under 1 s; it closes again after ` +
    `SIGCONT`, async () => {
    frozenPid = Number(readFileSync(join(redisServer.dir, 'redis.pid'), 'utf8').trim());
    process.kill(frozenPid, 'SIGSTOP');
    const latencies: number[] = [];
    let openedAfter: number | undefined;
    try {
      for (let i = 0; i < 8; i += 1) {
        // Already failed (and each request may cost seconds): stop early to keep the run short.
        if (openedAfter === undefined && i > GRACE_REQUESTS) break;
        const id = String(150 + i); // cold: L1 miss, so each request needs Redis or skips it
        const started = performance.now();
        expect(dataOf(await gateway.query<{ product: { id: string } | null }>(PRODUCT, { id })).product?.id).toBe(id);
        latencies.push(Math.round(performance.now() - started));
        if (openedAfter === undefined && (await metricSum(gateway.metrics.redisCircuitOpen)) === 1) openedAfter = i + 1;
      }
    } finally {
      thaw();
    }
    const errors = (await gateway.metrics.redisErrors.get()).values
      .map((v) => `${v.labels.operation}=${v.value}`)
      .join(' ');
    console.log(
      `[redis-hang] latencies ${latencies.join(', ')} ms; circuit opened after ${openedAfter ?? 'never'} requests; ` +
        `redis errors: ${errors}`,
    );
    expect(
      openedAfter,
      `the circuit never opened while Redis was frozen (latencies ${latencies.join(', ')} ms)`,
    ).toBeDefined();
    expect(openedAfter!).toBeLessThanOrEqual(GRACE_REQUESTS);
    const late = latencies.slice(GRACE_REQUESTS).filter((ms) => ms > MAX_LATENCY_MS);
    expect(late, `requests after the first ${GRACE_REQUESTS} still wait on the frozen Redis`).toEqual([]);

    const closedMs = await waitUntil(
      async () => (await metricSum(gateway.metrics.redisCircuitOpen)) === 0,
      10_000,
      'the circuit to close after SIGCONT',
    );
    console.log(`[redis-hang] circuit closed ${Math.round(closedMs)} ms after SIGCONT`);
  }, 60_000);
});
