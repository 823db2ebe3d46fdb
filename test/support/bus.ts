// An event bus of its own over the run's Redis (one node or the cluster), for the tests of the bus itself:
// a main connection behind a circuit and a subscriber connection, as the gateway wires them.
import { createLogger } from '../../src/infra/logger.ts';
import { createRedisBus, type EventBus } from '../../src/realtime/event-bus.ts';
import { RedisCircuit } from '../../src/redis/circuit-breaker.ts';
import { closeRedis, createRedisConnection, type Redis, waitUntilReady } from '../../src/redis/connection.ts';
import { randomPrefix } from './gateway.ts';

export interface TestBus {
  bus: EventBus;
  main: Redis;
  subscriber: Redis;
  stop(): Promise<void>;
}

export async function startTestBus(url: string, name: string): Promise<TestBus> {
  const logger = createLogger('silent');
  const main = createRedisConnection({ url, name, logger });
  const subscriber = createRedisConnection({ url, name: `${name}-sub`, logger });
  await Promise.all([waitUntilReady(main, 10_000), waitUntilReady(subscriber, 10_000)]);
  const circuit = new RedisCircuit(main, { logger });
  const bus = createRedisBus(circuit, subscriber, randomPrefix());
  return {
    bus,
    main,
    subscriber,
    async stop() {
      await bus.close();
      circuit.dispose();
      await Promise.all([closeRedis(main), closeRedis(subscriber)]);
    },
  };
}
