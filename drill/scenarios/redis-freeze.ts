// redis-server frozen (SIGSTOP) under load: commands hang instead of failing, so only the command timeout
// and the circuit breaker stand between Redis and the readers. Cached reads stay fast and none fails.
import { drive, noFailures, finish, window } from '../lib/drive.ts';
import { atMost, zero, latencyBound, type Scenario } from '../lib/scenario.ts';

/** The gateway's Redis command timeout (src/redis/connection.ts) plus a margin for a loaded 2-core machine. */
export const CACHED_READ_P99_BOUND_MS = 500 + 500;

export const redisFreeze: Scenario = {
  name: 'redis-freeze',
  title: `SIGSTOP redis-server under load, then SIGCONT: cached reads keep p99 <= ${CACHED_READ_P99_BOUND_MS} ms.`,
  full: { before: 5_000, fault: 5_000, after: 5_000 },
  short: { before: 1_000, fault: 1_500, after: 1_000 },
  async run(drill) {
    const { stack } = drill;
    const [gateway] = await stack.startGateways(1);
    const run = await drive(drill, {
      gateways: [gateway!],
      inject: async () => stack.infra.redis.signal('SIGSTOP'),
      heal: async () => stack.infra.redis.signal('SIGCONT'),
    });
    const frozen = window(run, run.faultAt, run.healedAt, 'read', ['product', 'list']);
    const reads = window(run, 0, run.endedAt, 'read');
    const sql = await stack.sql();
    return [
      atMost(
        `cached read p99 while frozen (${frozen.samples.length} reads)`,
        frozen.p99,
        latencyBound(drill, CACHED_READ_P99_BOUND_MS),
      ),
      atMost('slowest cached read while frozen', frozen.max, 2_000),
      noFailures('failed reads, whole run', reads),
      zero('hung reads (no answer within the client timeout)', reads.hung.length),
      ...(await finish(drill, run, sql)),
    ];
  },
};
