// Vitest global setup: one real PostgreSQL and one real redis-server for the whole run, on free ports in
// temp dirs, torn down (processes killed, dirs removed) when the run ends, also when it fails.
//
// Also a local 3-master Redis Cluster (test/support/redis-cluster.ts) for the `cluster` project, which
// runs the cache, invalidation, subscription, session and rate-limit tests on it (vitest.config.ts).
// REDIS_TOPOLOGY=cluster gives every test the cluster as its Redis (the whole suite on the cluster).
// Vitest runs this setup once per project, in one process: the servers are started by the first call
// and shared (globalThis), and stopped by the last teardown.
//
// PostgreSQL gets a template database (`cachegate_template`: migrations applied, seeded once
// prisma/seed.ts exists) that test files copy with createDatabaseFromTemplate when they write, and a
// shared copy (`cachegate_test`) for tests that only read.
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { applyMigrations } from '../src/db/migrator.ts';
import { copyDatabase, withAdminClient } from './support/database.ts';
import { startPostgres, type PostgresServer } from './support/postgres-server.ts';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster.ts';
import { startRedis, type RedisServer } from './support/redis-server.ts';

const TEMPLATE_DB = 'cachegate_template';
const SHARED_DB = 'cachegate_test';
const SEED_MODULE = new URL('../prisma/seed.ts', import.meta.url);

/** The part of prisma/seed.ts we rely on (it is written separately; imported only if present). */
interface SeedModule {
  seedDatabase(options: { databaseUrl: string; scale: 'small' | 'full' }): Promise<unknown>;
}

const log = (message: string): void => console.log(`[global-setup] ${message}`);

async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  log(`${label}: ${Math.round(performance.now() - started)} ms`);
  return result;
}

async function loadSeedModule(): Promise<SeedModule | undefined> {
  if (!existsSync(SEED_MODULE)) return undefined;
  const mod: Partial<SeedModule> = await import(SEED_MODULE.href);
  if (typeof mod.seedDatabase !== 'function') throw new Error(`${SEED_MODULE.pathname} does not export seedDatabase()`);
  return mod as SeedModule;
}

async function prepareDatabases(pgServer: PostgresServer): Promise<void> {
  await withAdminClient(pgServer.adminUrl, (c) => c.query(`CREATE DATABASE ${TEMPLATE_DB}`));
  const templateUrl = pgServer.urlFor(TEMPLATE_DB);
  const { applied } = await timed('migrations', () => applyMigrations(templateUrl));
  log(`applied ${applied.length} migrations`);
  const seed = await loadSeedModule();
  if (seed) {
    const summary = await timed('seed (small)', () => seed.seedDatabase({ databaseUrl: templateUrl, scale: 'small' }));
    log(`seeded ${JSON.stringify(summary)}`);
  } else {
    log('prisma/seed.ts not found: template is migrated but not seeded');
  }
  await withAdminClient(pgServer.adminUrl, (c) => copyDatabase(c, TEMPLATE_DB, SHARED_DB));
}

/** Starts both servers; if one fails the other is destroyed, so nothing leaks. */
async function startServers(): Promise<[PostgresServer, RedisServer]> {
  const [pgResult, redisResult] = await Promise.allSettled([startPostgres(), startRedis()]);
  if (pgResult.status === 'fulfilled' && redisResult.status === 'fulfilled') return [pgResult.value, redisResult.value];
  if (pgResult.status === 'fulfilled') await pgResult.value.destroy();
  if (redisResult.status === 'fulfilled') await redisResult.value.destroy();
  const failed = [pgResult, redisResult].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  throw failed?.reason;
}

interface Shared {
  pgServer: PostgresServer;
  redis: RedisServer;
  cluster: RedisCluster | undefined;
  teardown(): Promise<void>;
}

/** Whether any project of this run needs the cluster: the `cluster` project, or REDIS_TOPOLOGY=cluster. */
function clusterWanted(project: TestProject): boolean {
  return (
    process.env.REDIS_TOPOLOGY === 'cluster' ||
    project.vitest.projects.some((p) => p.config.env?.REDIS_TOPOLOGY === 'cluster')
  );
}

async function startShared(project: TestProject): Promise<Shared> {
  const started = performance.now();
  const [pgServer, redis] = await timed('start postgres + redis', startServers);
  let cluster: RedisCluster | undefined;
  // If vitest dies without running teardown (crash, process.exit), still kill the daemons.
  const killNow = (): void => {
    pgServer.killNow();
    redis.killNow();
    cluster?.killNow();
  };
  process.once('exit', killNow);
  const teardown = async (): Promise<void> => {
    process.off('exit', killNow);
    await Promise.allSettled([pgServer.destroy(), redis.destroy(), cluster?.destroy()]);
  };
  try {
    await Promise.all([
      prepareDatabases(pgServer),
      clusterWanted(project) && timed('start redis cluster', startRedisCluster).then((c) => void (cluster = c)),
    ]);
  } catch (error) {
    await teardown();
    throw error;
  }
  log(`ready in ${Math.round(performance.now() - started)} ms (postgres :${pgServer.port}, redis :${redis.port})`);
  return { pgServer, redis, cluster, teardown };
}

const shared = globalThis as { cachegateTestServers?: { started: Promise<Shared>; users: number } };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  shared.cachegateTestServers ??= { started: startShared(project), users: 0 };
  const entry = shared.cachegateTestServers;
  entry.users += 1;
  const { pgServer, redis, cluster } = await entry.started;
  const onCluster = process.env.REDIS_TOPOLOGY === 'cluster' || project.config.env?.REDIS_TOPOLOGY === 'cluster';
  project.provide('adminDatabaseUrl', pgServer.adminUrl);
  project.provide('templateDatabase', TEMPLATE_DB);
  project.provide('databaseUrl', pgServer.urlFor(SHARED_DB));
  project.provide('redisUrl', onCluster && cluster ? cluster.url : redis.url);
  return async () => {
    entry.users -= 1;
    if (entry.users > 0) return;
    shared.cachegateTestServers = undefined;
    await (await entry.started).teardown();
  };
}
