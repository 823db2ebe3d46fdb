// A Sentinel-managed primary dies under load (SIGKILL): the sentinels promote the replica, and gateways
// configured with REDIS_SENTINELS follow it without a restart and without one failed read.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedisSentinel, type RedisSentinelSet } from '../support/redis-sentinel.ts';
import { expectFollowed, readThrough } from './kit.ts';

let sentinel: RedisSentinelSet;
let database: TestDatabase;
let a: TestGateway;
let b: TestGateway;

beforeAll(async () => {
  [sentinel, database] = await Promise.all([
    startRedisSentinel(),
    createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase')),
  ]);
  const env = { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: sentinel.name };
  const options = { databaseUrl: database.url, cachePrefix: randomPrefix(), env };
  [a, b] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await Promise.allSettled([sentinel?.destroy(), database?.drop()]);
});

describe('Sentinel failover under load', () => {
  it('a killed primary is replaced; no read fails meanwhile, and both gateways use the new primary', async () => {
    const { failures, result, reads, p99 } = await readThrough([a, b], async () => {
      const port = await sentinel.killPrimary();
      return sentinel.waitForFailover(port);
    });
    console.log(
      `[sentinel failover] ${reads} reads, failover ${Math.round(result)} ms, read p99 ${Math.round(p99)} ms`,
    );
    expect(failures).toEqual([]);
    await expectFollowed(a, b, sentinel.url);
  }, 60_000);
});
