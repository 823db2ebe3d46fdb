// A Redis that answers, but slowly (a loopback TCP proxy adds 200 ms each way, under the 500 ms command
// timeout): the circuit opens after a few slow calls, so cached reads stop paying the round trips, stays
// open while the PING probe is slow too, and closes once Redis is fast again.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { RedisCircuit } from '../../src/redis/circuit-breaker.ts';
import { createRedisConnection, waitUntilReady, type Redis } from '../../src/redis/connection.ts';
import { sleep, waitUntil } from '../support/wait.ts';

let proxy: SlowProxy;
let redis: Redis;
let circuit: RedisCircuit;

beforeAll(async () => {
  proxy = await startSlowProxy(Number(new URL(inject('redisUrl')).port));
  redis = createRedisConnection({ url: proxy.url, name: 'slow-test', logger: createLogger('silent') });
  await waitUntilReady(redis, 5_000);
  circuit = new RedisCircuit(redis, { logger: createLogger('silent'), probeIntervalMs: 100 });
});

afterAll(async () => {
  circuit?.dispose();
  redis?.disconnect();
  await proxy?.close();
});

const get = () => circuit.run((r) => r.get('slow-test:missing'));

it('fast calls keep the circuit closed', async () => {
  for (let n = 0; n < 5; n++) await get();
  expect(circuit.state).toBe('closed');
});

it('slow calls open it; a slow PING does not close it; a fast one does', async () => {
  proxy.setDelay(200);
  for (let n = 0; n < 3; n++) expect(await get()).toBeNull(); // answered, but each took ~400 ms
  expect(circuit.state).toBe('open');
  await expect(get()).rejects.toThrow('redis unavailable'); // at once, no round trip
  await sleep(1_000); // several probes, each PING ~400 ms
  expect(circuit.state).toBe('open');
  proxy.setDelay(0);
  await waitUntil(() => circuit.state === 'closed', 3_000, 'the circuit to close');
  expect(await get()).toBeNull();
});
