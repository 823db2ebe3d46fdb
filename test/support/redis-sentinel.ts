// A throwaway Sentinel setup for tests and drills: a primary, one replica and three sentinels
// (redis-server --sentinel), all on 127.0.0.1 and free ports in one temp dir, with a short
// down-after-milliseconds so that a killed primary is replaced within a few seconds.
//
//   const set = await startRedisSentinel();     // gateway env: REDIS_SENTINELS=set.sentinels, REDIS_SENTINEL_NAME=set.name
//   await set.killPrimary();                    // SIGKILL
//   await set.waitForFailover();                // the sentinels name the replica as primary
//   await set.destroy();
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort } from './free-port.ts';
import { isPortOpen, killAndWaitSync, run, tailOf } from './process-utils.ts';
import { pingRedis, readPid } from './redis-server.ts';
import { waitUntil } from './wait.ts';

export interface RedisSentinelSet {
  /** The primary's name the sentinels use (REDIS_SENTINEL_NAME). */
  name: string;
  /** host:port,… of the three sentinels (REDIS_SENTINELS). */
  sentinels: string;
  /** The gateway's REDIS_URL in the address form: redis-sentinel://…/<name>. */
  url: string;
  /** The port the sentinels name as primary now. */
  primaryPort(): Promise<number>;
  /** SIGKILLs the current primary; resolves with its port. */
  killPrimary(): Promise<number>;
  /** Waits until the sentinels name another primary than `port`, and it answers as a master. */
  waitForFailover(port: number, timeoutMs?: number): Promise<number>;
  destroy(): Promise<void>;
  killNow(): void;
}

const NAME = 'cachegate';
const DOWN_AFTER_MS = 1_000;
const START_TIMEOUT_MS = 20_000;

interface Process {
  port: number;
  dir: string;
  pid: number | undefined;
}

/** Starts redis-server (or a sentinel, from its config file) daemonized in `dir`; resolves with its pid. */
async function launch(dir: string, port: number, args: string[]): Promise<number> {
  await mkdir(dir, { recursive: true });
  // biome-ignore format: option pairs
  await run('redis-server', [
    ...args, '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes', '--dir', dir,
    '--pidfile', join(dir, 'redis.pid'), '--logfile', join(dir, 'redis.log'),
  ]);
  const failed = async (): Promise<string> =>
    `redis on port ${port} did not answer PING\n--- log ---\n${await tailOf(join(dir, 'redis.log'))}`;
  await waitUntil(async () => (await readPid(dir)) !== undefined && (await pingRedis(port)), START_TIMEOUT_MS, failed);
  return (await readPid(dir))!;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], 10_000)).stdout.trim();
}

export async function startRedisSentinel(): Promise<RedisSentinelSet> {
  const root = await mkdtemp(join(tmpdir(), 'cachegate-redis-sentinel-'));
  const all: Process[] = [];
  try {
    const ports = new Set<number>();
    while (ports.size < 5) ports.add(await getFreePort());
    const [primaryPort, replicaPort, ...sentinelPorts] = [...ports] as [number, number, ...number[]];
    const data = ['--save', '', '--appendonly', 'no'];
    const primary: Process = { port: primaryPort, dir: join(root, 'primary'), pid: undefined };
    const replica: Process = { port: replicaPort, dir: join(root, 'replica'), pid: undefined };
    all.push(primary, replica);
    primary.pid = await launch(primary.dir, primary.port, data);
    replica.pid = await launch(replica.dir, replica.port, [...data, '--replicaof', '127.0.0.1', String(primaryPort)]);
    await waitUntil(
      async () => (await cli(replicaPort, 'info', 'replication')).includes('master_link_status:up'),
      START_TIMEOUT_MS,
      'the replica to sync',
    );
    for (const [i, port] of sentinelPorts.entries()) {
      const sentinel: Process = { port, dir: join(root, `sentinel-${i}`), pid: undefined };
      all.push(sentinel);
      await mkdir(sentinel.dir, { recursive: true });
      const conf = join(sentinel.dir, 'sentinel.conf');
      await writeFile(
        conf,
        [
          `sentinel monitor ${NAME} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${NAME} 10000`,
          `sentinel parallel-syncs ${NAME} 1`,
          '',
        ].join('\n'),
      );
      sentinel.pid = await launch(sentinel.dir, port, [conf, '--sentinel']);
    }
    // Each sentinel has found the replica and the two other sentinels: a failover can be agreed on.
    await waitUntil(
      async () => {
        const views = await Promise.all(sentinelPorts.map((p) => cli(p, 'sentinel', 'master', NAME).catch(() => '')));
        return views.every((v) => /num-slaves\n1\b/.test(v) && /num-other-sentinels\n2\b/.test(v));
      },
      START_TIMEOUT_MS,
      'the sentinels to see the replica and each other',
      100,
    );
    return handle(root, all, sentinelPorts);
  } catch (error) {
    for (const p of all) killAndWaitSync(p.pid, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

function handle(root: string, all: Process[], sentinelPorts: number[]): RedisSentinelSet {
  const sentinels = sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',');
  const primaryPort = async (): Promise<number> =>
    Number((await cli(sentinelPorts[0]!, 'sentinel', 'get-master-addr-by-name', NAME)).split('\n')[1]);
  return {
    name: NAME,
    sentinels,
    url: `redis-sentinel://${sentinels}/${NAME}`,
    primaryPort,
    async killPrimary() {
      const port = await primaryPort();
      const victim = all.find((p) => p.port === port);
      if (!victim?.pid) throw new Error(`no running primary on port ${port}`);
      killAndWaitSync(victim.pid, 'SIGKILL');
      victim.pid = undefined;
      await waitUntil(async () => !(await isPortOpen(port)), 5_000, 'the primary to die');
      return port;
    },
    async waitForFailover(port, timeoutMs = 20_000) {
      return waitUntil(
        async () => {
          const now = await primaryPort().catch(() => port);
          return now !== port && (await cli(now, 'role').catch(() => '')).startsWith('master');
        },
        timeoutMs,
        `the sentinels to promote a replica instead of port ${port}`,
        100,
      );
    },
    async destroy() {
      for (const p of all) {
        killAndWaitSync(p.pid, 'SIGKILL');
        p.pid = undefined;
      }
      await rm(root, { recursive: true, force: true });
    },
    killNow() {
      for (const p of all) killAndWaitSync(p.pid, 'SIGKILL');
      rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
