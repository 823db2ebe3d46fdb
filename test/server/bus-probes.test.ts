// A subscriber connection that stays "ready" and hears nothing (half-open behind a load balancer; here:
// it stops reading its socket) would leave this instance deaf to every invalidation, with no error. The
// bus probes itself end to end (src/realtime/channel-probes.ts): its probe goes unheard, the connection is
// made again, ioredis subscribes every channel again, and what is published after is heard.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.ts';
import { createRedisBus, type EventBus } from '../../src/realtime/event-bus.ts';
import { RedisCircuit } from '../../src/redis/circuit-breaker.ts';
import { createRedisConnection, type Redis, waitUntilReady } from '../../src/redis/connection.ts';
import { isCluster } from '../../src/redis/slots.ts';
import { randomPrefix } from '../support/gateway.ts';
import { waitUntil } from '../support/kit.ts';

const logger = createLogger('silent');
let main: Redis;
let subscriber: Redis;
let circuit: RedisCircuit;
let bus: EventBus;

beforeAll(async () => {
  const url = inject('redisUrl');
  main = createRedisConnection({ url, name: 'probe-test', logger });
  subscriber = createRedisConnection({ url, name: 'probe-test-sub', logger });
  if (isCluster(main)) throw new Error('this test is for one redis-server (the cluster has its own)');
  await Promise.all([waitUntilReady(main, 10_000), waitUntilReady(subscriber, 10_000)]);
  circuit = new RedisCircuit(main, { logger });
  bus = createRedisBus(circuit, subscriber, randomPrefix());
});

afterAll(async () => {
  await bus?.close();
  circuit?.dispose();
  main?.disconnect();
  subscriber?.disconnect();
});

it('a subscriber connection that hears nothing is made again; what is published after is heard', async () => {
  const heard: unknown[] = [];
  let reconnected = 0;
  subscriber.on('ready', () => void (reconnected += 1));
  await bus.subscribe('deaf-topic', (payload) => heard.push(payload));
  await bus.publish('deaf-topic', { n: 1 });
  await waitUntil(() => heard.length === 1, 5_000, 'the first message');
  const deaf = (subscriber as unknown as { stream: { pause(): void } }).stream;
  deaf.pause(); // still "ready", still subscribed, reads nothing more
  await bus.publish('deaf-topic', { n: 2 }); // never read
  await waitUntil(() => reconnected > 0, 10_000, 'the deaf connection made again');
  expect((subscriber as unknown as { stream: unknown }).stream).not.toBe(deaf);
  await waitUntil(
    async () => {
      await bus.publish('deaf-topic', { n: 3 });
      return heard.length >= 2;
    },
    5_000,
    'a message after the reconnect',
    100,
  );
  expect(heard[0]).toEqual({ n: 1 });
  expect(heard.slice(1).every((payload) => (payload as { n: number }).n === 3)).toBe(true);
}, 30_000);
