// Redis Cluster (3 masters, one replica each) under two gateways: the master serving the event's seat keys
// dies (SIGKILL). Its replica takes over; the gateways follow the new slot map without a restart and
// without a failed or hung read, and nothing acknowledged is lost. The old master then rejoins as a replica.
import { Cluster } from 'ioredis';
import { drive, finish, noFailures, window } from '../lib/drive.ts';
import { untilRedisUsedAgain } from '../lib/recovery.ts';
import { atLeast, atMost, latencyBound, zero, type Scenario } from '../lib/scenario.ts';
import { startRedisCluster } from '../../test/support/redis-cluster.ts';

/** Kill to replica promoted and every node `cluster_state:ok` (node timeout 1 s). */
const FAILOVER_BOUND_MS = 10_000;
/** Read p99 while the cluster fails over: a read must never wait out its 2 s client timeout. */
const FAILOVER_READ_P99_MS = 2_000;
const RECOVERY_BOUND_MS = 10_000;

export const redisClusterMasterKill: Scenario = {
  name: 'redis-cluster-master-kill',
  title:
    'SIGKILL the Redis Cluster master of the seat keys under load on two gateways: the replica takes over, ' +
    'no failed or hung read, nothing lost.',
  full: { before: 5_000, fault: 8_000, after: 7_000 },
  short: { before: 1_000, fault: 6_000, after: 2_000 },
  async run(drill) {
    const { stack } = drill;
    const cluster = await startRedisCluster();
    const onExit = (): void => cluster.killNow();
    process.once('exit', onExit);
    try {
      const gateways = await stack.startGateways(2, { redisUrl: cluster.url });
      let killed: number | undefined;
      let failoverMs = Number.NaN;
      let recoveryMs = Number.NaN;
      let keysAfter = 0;
      const run = await drive(drill, {
        gateways,
        // The seat-lock keys and the seat-change log share the `{eventId}` hash tag.
        inject: async () => {
          killed = (await cluster.killMaster(`{${stack.fixtures.eventId}}`)).port;
        },
        during: async () => {
          if (killed !== undefined) failoverMs = await cluster.waitForFailover(killed, 30_000);
        },
        heal: async () => {
          if (killed !== undefined) await cluster.restart(killed);
        },
        afterHeal: async () => {
          const client = new Cluster(
            cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
            { lazyConnect: true },
          );
          await client.connect();
          try {
            const countKeys = async (): Promise<number> =>
              (await Promise.all(client.nodes('master').map((node) => node.dbsize()))).reduce((sum, n) => sum + n, 0);
            ({ ms: recoveryMs, keys: keysAfter } = await untilRedisUsedAgain(gateways, countKeys, 30_000));
          } finally {
            client.disconnect();
          }
        },
      });
      const reads = window(run, 0, run.endedAt, 'read');
      const failover = window(run, run.faultAt, run.healedAt, 'read');
      const sql = await stack.sql();
      return [
        atMost('failover: kill to replica promoted, cluster ok', failoverMs, FAILOVER_BOUND_MS),
        noFailures('failed reads, whole run', reads),
        zero('hung reads (no answer within the client timeout)', reads.hung.length),
        atMost(
          `read p99 during the failover (${failover.samples.length} reads)`,
          failover.p99,
          latencyBound(drill, FAILOVER_READ_P99_MS),
        ),
        atMost('recovery: both gateways circuit closed, keys on the masters', recoveryMs, RECOVERY_BOUND_MS),
        atLeast('keys on the cluster masters after the failover', keysAfter, 1, ''),
        ...(await finish(drill, run, sql)),
      ];
    } finally {
      process.off('exit', onExit);
      await cluster.destroy();
    }
  },
};
