// A subscriber connection that stays "ready" and hears nothing (half-open behind a load balancer; here:
// it stops reading its socket) would leave this instance deaf to every invalidation, with no error. The
// bus probes itself end to end (src/realtime/channel-probes.ts): its probe goes unheard, the connection is
// made again, ioredis subscribes every channel again, and what is published after is heard.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventBus } from '../../src/realtime/event-bus.ts';
import type { Redis } from '../../src/redis/connection.ts';
import { isCluster } from '../../src/redis/slots.ts';
import { startTestBus, type TestBus } from '../support/bus.ts';
import { waitUntil } from '../support/kit.ts';

// The cluster's shard connections have their own test (test/cluster/shard-subscriptions.test.ts); with the
// whole suite on the cluster (REDIS_TOPOLOGY=cluster) there is no single connection to stop.
describe.skipIf(process.env.REDIS_TOPOLOGY === 'cluster')('one redis-server', () => {
  let started: TestBus;
  let subscriber: Redis;
  let bus: EventBus;

  beforeAll(async () => {
    started = await startTestBus(inject('redisUrl'), 'probe-test');
    if (isCluster(started.subscriber)) throw new Error('this test is for one redis-server');
    subscriber = started.subscriber;
    bus = started.bus;
  });

  afterAll(() => started?.stop());

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
});
