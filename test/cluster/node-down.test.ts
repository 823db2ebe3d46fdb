// One Redis Cluster master dies (SIGKILL) while the others serve: the circuit stays closed, commands for the
// dead master's slots are refused at once (no redirection or timeout to wait out, several times per read)
// and fall back, the other slots keep Redis, and once the replica has taken over `recovered` fires and the
// dead master's keys are served by Redis again. A private 3-master cluster (test/support/redis-cluster.ts).
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/infra/logger.ts';
import { RedisCircuit, type CircuitState } from '../../src/redis/circuit-breaker.ts';
import { createRedisConnection, waitUntilReady, type Redis } from '../../src/redis/connection.ts';
import { SlotOwnerDownError } from '../../src/redis/node-guard.ts';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.ts';
import { sleep, waitUntil } from '../support/kit.ts';

const READERS = 4;

interface Outcome {
  key: string;
  /** 'redis': Redis answered; 'refused': failed fast by the guard; 'failed': failed on the network. */
  how: 'redis' | 'refused' | 'failed';
}

describe('Redis Cluster: one master down', () => {
  let cluster: RedisCluster;
  let redis: Redis;
  let circuit: RedisCircuit;
  const transitions: CircuitState[] = [];
  let recoveries = 0;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    const logger = createLogger('silent');
    redis = createRedisConnection({ url: cluster.url, name: 'node-down-test', logger });
    expect(await waitUntilReady(redis, 10_000)).toBe(true);
    circuit = new RedisCircuit(redis, { logger });
    circuit.on('state', (state) => transitions.push(state));
    circuit.on('recovered', () => (recoveries += 1));
  }, 60_000);

  afterAll(async () => {
    circuit?.dispose();
    redis?.disconnect();
    await cluster?.destroy();
  });

  it("refuses the dead master's slots at once and keeps the others on Redis until the replica serves", async () => {
    const victim = 'node-down:{victim}';
    const masters = await cluster.masters();
    const owner = (key: string) =>
      masters.find((m) => m.slots.some(([a, b]) => calculateSlot(key) >= a && calculateSlot(key) <= b));
    // One key on the master that dies, one on each other master.
    const keys = [victim];
    for (let n = 0; keys.length < 3; n += 1) {
      const key = `node-down:${n}`;
      if (!keys.some((k) => owner(k)?.port === owner(key)?.port)) keys.push(key);
    }

    const outcomes: Outcome[] = [];
    const reportedDown = new Set<string>();
    let reading = true;
    const reader = async (key: string): Promise<void> => {
      while (reading) {
        const how = await circuit
          .run((r) => r.get(key))
          .then(
            (): Outcome['how'] => 'redis', // a miss too: the new master may not have had the key replicated yet
            (error: Error) => (error.cause instanceof SlotOwnerDownError ? 'refused' : 'failed'),
          );
        outcomes.push({ key, how });
        for (const node of circuit.nodesDown) reportedDown.add(node);
        await sleep(10);
      }
    };
    const readers = keys.flatMap((key) => Array.from({ length: READERS }, () => reader(key)));
    await sleep(200);
    const { port } = await cluster.killMaster(victim);
    await cluster.waitForFailover(port);
    await waitUntil(() => recoveries > 0, 10_000, 'the guard to see the replica serve');
    const afterRecovery = outcomes.length;
    await waitUntil(
      () => outcomes.slice(afterRecovery).some((o) => o.key === victim && o.how === 'redis'),
      10_000,
      'the victim key from Redis',
    );
    reading = false;
    await Promise.all(readers);

    const victimOutcomes = outcomes.filter((o) => o.key === victim);
    // Each reader waited on the network at most once or twice (the first failure, and the cluster-wide
    // CLUSTERDOWN moment before the promotion); every other call for the dead slots was refused at once.
    const waited = victimOutcomes.filter((o) => o.how === 'failed').length;
    expect(waited).toBeLessThanOrEqual(READERS * 2);
    expect(victimOutcomes.filter((o) => o.how === 'refused').length).toBeGreaterThan(waited);
    // /readyz names the dead master while its slots are refused, and nothing once the replica serves them.
    expect(reportedDown).toContain(`127.0.0.1:${port}`);
    await waitUntil(() => circuit.nodesDown.length === 0, 5_000, 'no node reported down');
    // The circuit never opened for every slot: the live masters answered while the dead one was refused.
    expect(transitions).toEqual([]);
    const firstRefusal = outcomes.findIndex((o) => o.how === 'refused');
    const liveAnswered = outcomes.slice(firstRefusal).filter((o) => o.key !== victim && o.how === 'redis');
    expect(liveAnswered.length).toBeGreaterThan(0);
  }, 60_000);
});
