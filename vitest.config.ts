import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  // One graphql-js for everything: Vite would otherwise load graphql's ESM build for our sources and
  // its CommonJS build for Apollo and graphql-tools, and graphql-js refuses types from "another realm".
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    // One PostgreSQL + one redis-server for the whole run (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // A child process per worker: process-wide state (env, timers, sockets, signal handlers) stays out of other files.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2, // 2-core CI machines; the database server needs CPU too
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
