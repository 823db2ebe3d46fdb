// A sharded subscription that silently ends (here: the shard connection's own SUNSUBSCRIBE, as Redis does
// when a slot moves away, or an SSUBSCRIBE that failed while the cluster settled) leaves ioredis believing
// the channel is subscribed: the bus would hear nothing on it again. The bus's check sees the connection
// has not acknowledged the channel, subscribes it again and says so (src/realtime/shard-subscriptions.ts).
// A shard connection that acknowledges its channels and still hears nothing (half-open, here: it stops
// reading its socket) is found by the bus's own probes (src/realtime/channel-probes.ts) and replaced.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { EventBus } from '../../src/realtime/event-bus.ts';
import type { Cluster } from '../../src/redis/connection.ts';
import { isCluster } from '../../src/redis/slots.ts';
import { startTestBus, type TestBus } from '../support/bus.ts';
import { waitUntil } from '../support/kit.ts';

let started: TestBus;
let subscriber: Cluster;
let bus: EventBus;

beforeAll(async () => {
  started = await startTestBus(inject('redisUrl'), 'shard-test');
  if (!isCluster(started.subscriber)) throw new Error('this test needs the run on a Redis Cluster');
  subscriber = started.subscriber;
  bus = started.bus;
});

afterAll(() => started?.stop());

interface ShardConnection {
  condition?: { subscriber?: false | { channels(set: 'ssubscribe'): string[] } } | null;
  sunsubscribe(channel: string): Promise<unknown>;
  stream: { pause(): void };
}

/** The shard connection (ioredis internals) that has acknowledged a channel ending in `suffix`, and that channel. */
function shardListening(suffix: string): { connection: ShardConnection; channel: string } | undefined {
  const group = (
    subscriber as unknown as {
      shardedSubscribers: { shardedSubscribers: Map<string, { getInstance(): ShardConnection }> };
    }
  ).shardedSubscribers.shardedSubscribers;
  for (const shard of group.values()) {
    const connection = shard.getInstance();
    const subscribed = connection?.condition?.subscriber; // no condition before it first connects
    const channel = subscribed ? subscribed.channels('ssubscribe').find((c) => c.endsWith(suffix)) : undefined;
    if (connection && channel) return { connection, channel };
  }
  return undefined;
}

it('a subscription ended behind the back of ioredis is made again; what is published after is heard', async () => {
  const heard: unknown[] = [];
  const resubscribed: string[][] = [];
  bus.onResubscribed?.((channels) => resubscribed.push(channels));
  await bus.subscribe('lost-topic', (payload) => heard.push(payload));
  await bus.publish('lost-topic', { n: 1 });
  await waitUntil(() => heard.length === 1, 5_000, 'the first message');
  // End the subscription on the shard connection itself: the sharded subscriber group still lists it.
  const listening = shardListening(':lost-topic');
  expect(listening).toBeDefined();
  await listening!.connection.sunsubscribe(listening!.channel);
  await bus.publish('lost-topic', { n: 2 }); // nobody listens on the shard now: lost
  await waitUntil(() => resubscribed.some((c) => c.includes(listening!.channel)), 5_000, 'the subscription made again');
  await waitUntil(() => shardListening(':lost-topic') !== undefined, 5_000, 'the shard to acknowledge it');
  await bus.publish('lost-topic', { n: 3 });
  await waitUntil(() => heard.length === 2, 5_000, 'the message after the repair');
  expect(heard).toEqual([{ n: 1 }, { n: 3 }]);
});

it('a shard connection that hears nothing though it acknowledges its channels is replaced; what is published after is heard', async () => {
  const heard: unknown[] = [];
  const resubscribed: string[][] = [];
  bus.onResubscribed?.((channels) => resubscribed.push(channels));
  await bus.subscribe('deaf-topic', (payload) => heard.push(payload));
  await bus.publish('deaf-topic', { n: 1 });
  await waitUntil(() => heard.length === 1, 5_000, 'the first message');
  const listening = shardListening(':deaf-topic');
  expect(listening).toBeDefined();
  listening!.connection.stream.pause(); // still "ready", still subscribed, reads nothing more
  await bus.publish('deaf-topic', { n: 2 }); // never read by that connection
  await waitUntil(() => resubscribed.some((c) => c.includes(listening!.channel)), 10_000, 'the deaf channel found');
  await waitUntil(
    () => {
      const now = shardListening(':deaf-topic');
      return now !== undefined && now.connection !== listening!.connection;
    },
    10_000,
    'a new shard connection to acknowledge it',
  );
  await bus.publish('deaf-topic', { n: 3 });
  await waitUntil(() => heard.length === 2, 5_000, 'the message after the repair');
  expect(heard).toEqual([{ n: 1 }, { n: 3 }]);
}, 30_000);
