import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

const include = ['test/**/*.test.ts', 'src/**/*.test.ts'];
// The cache, invalidation, subscription, session and rate-limit tests again, on a local 3-master Redis
// Cluster (test/global-setup.ts). REDIS_TOPOLOGY=cluster runs every test on the cluster instead.
const ON_CLUSTER_TOO = [
  'test/cache/coalescing.test.ts',
  'test/cache/inflight-invalidation.test.ts',
  'test/cache/invalidation-counter.test.ts',
  'test/cache/read-your-writes.test.ts',
  'test/cache/response-cache.test.ts',
  'test/cache/response-interleavings.test.ts',
  'test/cache/response-stale.test.ts',
  'test/cache/response-flight.test.ts',
  'test/cache/response-tier-sharing.test.ts',
  'test/cache/persisted-operations.test.ts',
  'test/cache/change-feed.test.ts',
  'test/cache/ttl.test.ts',
  'test/ticketing/realtime.test.ts',
  'test/server/websocket.test.ts',
  'test/accounts/sessions.test.ts',
  'test/accounts/rate-limits.test.ts',
  'test/accounts/tenant-purge.test.ts',
  'test/cluster/**/*.test.ts',
];
const wholeSuiteOnCluster = process.env.REDIS_TOPOLOGY === 'cluster';

export default defineConfig({
  // One graphql-js for everything: Vite would otherwise load graphql's ESM build for our sources and
  // its CommonJS build for Apollo and graphql-tools, and graphql-js refuses types from "another realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    // One PostgreSQL + one redis-server for the whole run (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'redis', include, exclude: ['test/cluster/**'] } },
      wholeSuiteOnCluster
        ? { extends: true, test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'] } }
        : { extends: true, test: { name: 'cluster', include: ON_CLUSTER_TOO, env: { REDIS_TOPOLOGY: 'cluster' } } },
    ],
    // A child process per worker: process-wide state (env, timers, sockets, signal handlers) stays out of other files.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2, // 2-core CI machines; the database server needs CPU too
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
