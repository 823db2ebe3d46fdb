// redis-server dies (SIGKILL) under load and comes back empty: no read fails or hangs, writes go on through
// PostgreSQL with their guarantees, and after the restart the caches refill and the subscriptions resume
// without restarting the gateway.
import { Redis } from 'ioredis';
import { drive, failures, finish, noFailures, hitRate, window } from '../lib/drive.ts';
import { untilRedisUsedAgain } from '../lib/recovery.ts';
import { atLeast, atMost, isTrue, zero, latencyBound, type Scenario } from '../lib/scenario.ts';

const RECOVERY_BOUND_MS = 5_000;

export const redisKill: Scenario = {
  name: 'redis-kill',
  title: 'SIGKILL redis-server under load, restart it: no failed or hung read, nothing lost, caches refill.',
  full: { before: 8_000, fault: 10_000, after: 12_000 },
  // The short form keeps the refill criterion; its L1s start empty after the restart, so it needs the time too.
  short: { before: 3_000, fault: 2_000, after: 10_000 },
  async run(drill) {
    const { stack } = drill;
    const [gateway] = await stack.startGateways(1);
    let recoveryMs = Number.NaN;
    let keysAfter = 0;
    const run = await drive(drill, {
      gateways: [gateway!],
      inject: async () => stack.infra.redis.signal('SIGKILL'),
      heal: () => stack.infra.redis.start(),
      afterHeal: async () => {
        // Recovered: the circuit closed and the cache is filling again (keys written to the new server).
        const redis = new Redis(stack.infra.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await redis.connect();
        try {
          ({ ms: recoveryMs, keys: keysAfter } = await untilRedisUsedAgain([gateway!], () => redis.dbsize(), 20_000));
        } finally {
          redis.disconnect();
        }
      },
    });
    const reads = window(run, 0, run.endedAt, 'read');
    const outage = window(run, run.faultAt, run.healedAt, 'read');
    const writes = ['write', 'confirm', 'checkout'] as const;
    const outageWrites = writes.map((kind) => window(run, run.faultAt, run.healedAt, kind));
    // The load's steady hit rate before the fault, from the second half of that window: just after the warm
    // pass nothing has been invalidated yet, and in a 1 s window that start alone set a target (0.9 x 0.9)
    // that the same load never reaches again.
    const before = hitRate(run.cache, run.faultAt / 2, run.faultAt) ?? 0;
    // Refilled: the first window after the restart (2 s; 1 s in the short form) whose hit rate is back to
    // 90 % of the one before the fault.
    const target = Math.round(before * 0.9 * 100) / 100;
    const span = drill.short ? 1_000 : 2_000;
    const refilledAt = run.cache.find(
      (c) => c.at > run.healedAt + span && (hitRate(run.cache, c.at - span, c.at) ?? 0) >= target,
    )?.at;
    const refillMs = refilledAt === undefined ? Number.POSITIVE_INFINITY : refilledAt - run.healedAt;
    // When it never gets there: how close it came, to tell a slow refill from a hit rate held down.
    const bestAfter = Math.max(
      0,
      ...run.cache.filter((c) => c.at > run.healedAt + span).map((c) => hitRate(run.cache, c.at - span, c.at) ?? 0),
    );
    const afterRestart = (at: number): boolean => at > run.healedAt + recoveryMs;
    const resumed = run.seatWatchers.filter((w) => w.receivedAt.some((t) => afterRestart(t - run.load.startedAt)));
    const sql = await stack.sql();
    return [
      noFailures('failed reads, whole run', reads),
      zero('hung reads (no answer within the client timeout)', reads.hung.length),
      atMost(`read p99 during the outage (${outage.samples.length} reads)`, outage.p99, latencyBound(drill, 1_000)),
      {
        ...zero(
          `failed writes during the outage (of ${outageWrites.reduce((n, w) => n + w.samples.length, 0)})`,
          outageWrites.reduce((n, w) => n + w.failed.length, 0),
        ),
        value: failures(outageWrites.flatMap((w) => w.failed)),
      },
      atMost('recovery: restart to circuit closed and keys written', recoveryMs, RECOVERY_BOUND_MS),
      atLeast('keys in the restarted Redis', keysAfter, 1, ''),
      {
        ...atMost(
          `restart to a ${span / 1000} s hit rate >= ${target} (90 % of ${before.toFixed(2)} before the fault)`,
          refillMs,
          drill.timings.after,
        ),
        ...(refilledAt === undefined && { value: `never (best ${bestAfter.toFixed(2)})` }),
      },
      isTrue(
        'seat subscribers receiving changes after the restart, same sockets',
        resumed.length === run.seatWatchers.length && run.seatWatchers.every((w) => w.reconnects === 0),
        `${resumed.length} of ${run.seatWatchers.length}`,
      ),
      ...(await finish(drill, run, sql)),
    ];
  },
};
