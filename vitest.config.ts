import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // One PostgreSQL + one redis-server for the whole run (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // A child process per worker: process-wide state (env, timers, sockets, signal handlers) stays out of other files.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2, // 2-core CI machines; the database server needs CPU too
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
