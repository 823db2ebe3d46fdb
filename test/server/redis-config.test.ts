// The Redis topology variables: REDIS_URL in its three forms, REDIS_CLUSTER_NODES, REDIS_SENTINELS with
// REDIS_SENTINEL_NAME, and the refusals that name the variable (loadConfig, no gateway started).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl } from '../../src/config.ts';
import { parseRedisTarget } from '../../src/redis/redis-address.ts';

const redisOf = (env: Record<string, string>) => loadConfig({ DATABASE_URL: 'postgresql://h/db', ...env }).redisUrl;
const refusal = (env: Record<string, string>): string => {
  try {
    redisOf(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('accepted');
};

describe('Redis topology configuration', () => {
  it('REDIS_CLUSTER_NODES and REDIS_SENTINELS become addresses that parse back to the same nodes', () => {
    const cluster = redisOf({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002' })!;
    expect(parseRedisTarget(cluster)).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      auth: {},
      tls: false,
    });
    const sentinel = redisOf({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'main' })!;
    expect(parseRedisTarget(sentinel)).toMatchObject({
      kind: 'sentinel',
      name: 'main',
      sentinels: [{ host: 's1' }, {}],
    });
  });

  it('REDIS_URL takes the cluster and sentinel forms, with credentials and TLS', () => {
    expect(parseRedisTarget(redisOf({ REDIS_URL: 'rediss-cluster://u:p%40ss@a:1,b:2' })!)).toMatchObject({
      kind: 'cluster',
      auth: { username: 'u', password: 'p@ss' },
      tls: true,
    });
    expect(parseRedisTarget(redisOf({ REDIS_URL: 'redis-sentinel://:pw@a:26379/primary' })!)).toMatchObject({
      kind: 'sentinel',
      name: 'primary',
      auth: { password: 'pw' },
    });
    expect(redactUrl('redis-cluster://u:secret@a:1,b:2')).toBe('redis-cluster://u:***@a:1,b:2');
  });

  it('refuses bad lists, two topologies at once, and sentinels without a name, naming the variable', () => {
    expect(refusal({ REDIS_CLUSTER_NODES: 'a:1,b' })).toMatch(/^invalid configuration: REDIS_CLUSTER_NODES /);
    expect(refusal({ REDIS_URL: 'memcached://x' })).toMatch(/^invalid configuration: REDIS_URL /);
    expect(refusal({ REDIS_URL: 'redis-sentinel://a:1' })).toMatch(/REDIS_URL .*\/<primary name>/);
    expect(refusal({ REDIS_URL: 'redis://a', REDIS_CLUSTER_NODES: 'a:1' })).toMatch(
      /REDIS_CLUSTER_NODES cannot be set together with REDIS_URL/,
    );
    expect(refusal({ REDIS_SENTINELS: 'a:1' })).toMatch(/REDIS_SENTINEL_NAME must be set with REDIS_SENTINELS/);
  });
});
