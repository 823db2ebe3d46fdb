// A Redis that answers, but slowly, opens the circuit through the latency watch; a gateway whose own event
// loop stalls does not (the real redis-server behind a real TCP proxy that delays every chunk).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.ts';
import { RedisCircuit, RedisUnavailableError, type CircuitState } from '../../src/redis/circuit-breaker.ts';
import { createRedisConnection, waitUntilReady, type Redis } from '../../src/redis/connection.ts';
import { type RedisServer, startRedis } from '../support/redis-server.ts';
import { startSlowProxy, type SlowProxy } from '../support/slow-proxy.ts';
import { sleep, waitUntil } from '../support/kit.ts';

/** Blocks the event loop for `ms`, as a CPU-bound burst of request work would. */
function stallLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs, timers and socket reads wait
  }
}

describe('circuit breaker: a slow Redis', () => {
  let server: RedisServer;
  let proxy: SlowProxy;
  let main: Redis;
  let circuit: RedisCircuit;
  const transitions: CircuitState[] = [];

  beforeAll(async () => {
    // Its own single redis-server: one connection's latency is the subject, whatever the run's topology.
    server = await startRedis();
    proxy = await startSlowProxy(server.port);
    const logger = createLogger('silent');
    // A command timeout far above the delay: the slow Redis fails nothing, only the watch can see it.
    main = createRedisConnection({ url: proxy.url, name: 'slow-test', logger, commandTimeoutMs: 5_000 });
    expect(await waitUntilReady(main, 5_000)).toBe(true);
    circuit = new RedisCircuit(main, { logger });
    circuit.on('state', (state) => transitions.push(state));
  });

  afterAll(async () => {
    circuit?.dispose();
    main?.disconnect();
    await proxy?.close();
    await server?.stop();
  });

  it('stays closed while the gateway itself stalls for longer than the slow bound', async () => {
    // 400 ms stalls with short breaks for 3 s: every PING's answer waits behind a stall, so timing from the
    // caller's side would call Redis slow.
    const until = performance.now() + 3_000;
    while (performance.now() < until) {
      stallLoop(400);
      await sleep(20);
    }
    await sleep(600);
    expect(transitions).toEqual([]);
    expect(circuit.state).toBe('closed');
  });

  it('opens when Redis answers 200 ms late each way, fails calls fast, and closes once it is fast', async () => {
    proxy.setDelay(200);
    await waitUntil(() => circuit.state === 'open', 10_000, 'the circuit to open on a slow Redis');
    const started = performance.now();
    await expect(circuit.run((redis) => redis.get('slow-test:any'))).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(performance.now() - started).toBeLessThan(50);
    // Still slow: the open circuit's probes are slow too, so it stays open.
    await sleep(1_500);
    expect(circuit.state).toBe('open');
    proxy.setDelay(0);
    await waitUntil(() => circuit.state === 'closed', 10_000, 'the circuit to close once Redis is fast');
    expect(transitions).toEqual(['open', 'closed']);
    expect(await circuit.run((redis) => redis.ping())).toBe('PONG');
  });
});

describe('a slow Redis with command timeouts (no circuit in front)', () => {
  let server: RedisServer;
  let proxy: SlowProxy;
  let redis: Redis;

  beforeAll(async () => {
    server = await startRedis(); // one node, whatever the run's topology
    proxy = await startSlowProxy(server.port);
    redis = createRedisConnection({ url: proxy.url, name: 'slow-timeouts', logger: createLogger('silent') });
    expect(await waitUntilReady(redis, 5_000)).toBe(true);
  });

  afterAll(async () => {
    redis?.disconnect();
    await proxy?.close();
    await server?.stop();
  });

  it('pairs every reply with its own command while earlier commands time out', async () => {
    const keys = Array.from({ length: 20 }, (_, n) => `slow-timeouts:${n}`);
    for (const [n, key] of keys.entries()) await redis.set(key, `v${n}`);
    let answered = 0;
    let timedOut = 0;
    const wrong: string[] = [];
    // The round trip swings around the 500 ms command timeout: some commands time out while later ones,
    // already written to the socket, are answered. Each answer must be its own command's.
    const until = performance.now() + 3_000;
    const swing = setInterval(() => proxy.setDelay(proxy.delayMs === 150 ? 300 : 150), 200);
    const client = async (c: number): Promise<void> => {
      for (let n = c; performance.now() < until; n += 1) {
        const [a, b] = [n % keys.length, (n + 7) % keys.length];
        try {
          const reply = n % 2 ? [await redis.get(keys[a]!)] : await redis.mget(keys[a]!, keys[b]!);
          const expected = n % 2 ? [`v${a}`] : [`v${a}`, `v${b}`];
          answered += 1;
          if (JSON.stringify(reply) !== JSON.stringify(expected)) wrong.push(JSON.stringify(reply));
        } catch (error) {
          if (!(error instanceof Error) || error.message !== 'Command timed out') throw error;
          timedOut += 1;
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: 10 }, (_, c) => client(c)));
    } finally {
      clearInterval(swing);
      proxy.setDelay(0);
    }
    expect(timedOut).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
    expect(wrong).toEqual([]);
  });
});
