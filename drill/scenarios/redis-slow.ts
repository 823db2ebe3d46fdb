// Redis behind a slow network: a loopback TCP proxy adds 200 ms each way. Cached reads must not all pay
// the round trip: p99 stays bounded (the circuit's latency watch sees the slow PINGs and opens it, so reads
// are answered from L1 and PostgreSQL), and nothing fails.
import { drive, noFailures, finish, window } from '../lib/drive.ts';
import { startSlowProxy } from '../../test/support/slow-proxy.ts';
import { atMost, zero, latencyBound, type Scenario } from '../lib/scenario.ts';
import { CACHED_READ_P99_BOUND_MS } from './redis-freeze.ts';

const DELAY_MS = 200;

export const redisSlow: Scenario = {
  name: 'redis-slow',
  title:
    `Redis ${DELAY_MS} ms away each way (TCP proxy) under load: cached reads keep p99 <= ` +
    `${CACHED_READ_P99_BOUND_MS} ms.`,
  full: { before: 5_000, fault: 10_000, after: 5_000 },
  short: { before: 1_000, fault: 2_000, after: 1_000 },
  async run(drill) {
    const { stack } = drill;
    const proxy = await startSlowProxy(stack.infra.redis.port);
    try {
      const [gateway] = await stack.startGateways(1, { redisUrl: proxy.url });
      const run = await drive(drill, {
        gateways: [gateway!],
        inject: async () => proxy.setDelay(DELAY_MS),
        heal: async () => proxy.setDelay(0),
      });
      const slow = window(run, run.faultAt, run.healedAt, 'read', ['product', 'list']);
      const reads = window(run, 0, run.endedAt, 'read');
      const sql = await stack.sql();
      return [
        atMost(
          `cached read p99 while slow (${slow.samples.length} reads)`,
          slow.p99,
          latencyBound(drill, CACHED_READ_P99_BOUND_MS),
        ),
        noFailures('failed reads, whole run', reads),
        zero('hung reads (no answer within the client timeout)', reads.hung.length),
        ...(await finish(drill, run, sql)),
      ];
    } finally {
      await proxy.close();
    }
  },
};
