// A Sentinel-managed primary dies under load (SIGKILL): the sentinels promote the replica, and gateways
// configured with REDIS_SENTINELS follow it without a restart and without one failed read.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startRedisSentinel, type RedisSentinelSet } from '../support/redis-sentinel.ts';
import { expectFollowed, readThrough, startPair, type GatewayPair } from './kit.ts';

let pair: GatewayPair & { redis: RedisSentinelSet };

beforeAll(async () => {
  pair = await startPair(
    startRedisSentinel,
    (set) => ({ REDIS_SENTINELS: set.sentinels, REDIS_SENTINEL_NAME: set.name }),
    inject('adminDatabaseUrl'),
    inject('templateDatabase'),
  );
});

afterAll(() => pair?.stop());

describe('Sentinel failover under load', () => {
  it('a killed primary is replaced; no read fails meanwhile, and both gateways use the new primary', async () => {
    const { a, b, redis: sentinel } = pair;
    const { failures, result, reads, p99 } = await readThrough([a, b], async () => {
      const port = await sentinel.killPrimary();
      return sentinel.waitForFailover(port);
    });
    console.log(
      `[sentinel failover] ${reads} reads, failover ${Math.round(result)} ms, read p99 ${Math.round(p99)} ms`,
    );
    expect(failures).toEqual([]);
    await expectFollowed(a, b, sentinel.url);
  }, 120_000);
});
