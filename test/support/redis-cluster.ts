// A throwaway local Redis Cluster for tests and drills: 3 masters with one replica each, six
// redis-server processes in cluster mode (no persistence, 127.0.0.1 only, free ports, each daemonized
// with its pidfile, log, nodes.conf in one temp dir), joined with
// `redis-cli --cluster create --cluster-replicas 1 --cluster-yes` and waited on until every node
// says cluster_state:ok.
//
//   const cluster = await startRedisCluster();       // about 2 s
//   gateway env: REDIS_URL=cluster.url               // redis-cluster://127.0.0.1:p1,…
//   const { port } = await cluster.killMaster();     // SIGKILL one master (the one owning `key`, if given)
//   await cluster.waitForFailover(port);             // its replica is master, cluster_state:ok again
//   await cluster.restart(port);                     // optional: the node rejoins (as a replica)
//   await cluster.destroy();                         // kill all, remove the dir
//
// Failover is quick by configuration: cluster-node-timeout NODE_TIMEOUT_MS, and replicas may always take
// over (cluster-replica-validity-factor 0).
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { getFreePort } from './free-port.ts';
import { isPortOpen, isProcessAlive, killAndWaitSync, run, tailOf } from './process-utils.ts';
import { pingRedis, readPid } from './redis-server.ts';
import { waitUntil } from './wait.ts';

export interface ClusterNode {
  port: number;
  /** undefined while the node is stopped. */
  pid: number | undefined;
}

export interface RedisCluster {
  /** The gateway's REDIS_URL: redis-cluster://127.0.0.1:<port>,… (every node, so any may seed it). */
  url: string;
  /** The same nodes, as REDIS_CLUSTER_NODES wants them (host:port,…). */
  nodeList: string;
  nodes: ClusterNode[];
  dir: string;
  /** Ports of the nodes that are masters now, each with the slot ranges it serves. */
  masters(): Promise<{ port: number; slots: [number, number][] }[]>;
  /** SIGKILLs a master: the one serving `key` when given, else the first. Resolves with its port. */
  killMaster(key?: string): Promise<{ port: number }>;
  /** Waits until a replica took over the slots of the killed master `port` and the cluster is ok. */
  waitForFailover(port: number, timeoutMs?: number): Promise<number>;
  /**
   * Fails the master serving `key` over to its replica without killing it (CLUSTER FAILOVER TAKEOVER):
   * resolves once the replica serves the key's slot and the cluster is ok, with both ports.
   */
  promoteReplica(key: string): Promise<{ from: number; to: number }>;
  /** Starts a stopped node again on its port; it rejoins the cluster (a replica, once failed over). */
  restart(port: number): Promise<void>;
  /** Kills every node and removes the temp dir. */
  destroy(): Promise<void>;
  /** Synchronous last resort for process 'exit' handlers. */
  killNow(): void;
}

const NODE_COUNT = 6;
export const NODE_TIMEOUT_MS = 1_000;
const START_TIMEOUT_MS = 20_000;

async function launchNode(dir: string, port: number, busPort: number): Promise<number> {
  await mkdir(dir, { recursive: true });
  await rm(join(dir, 'redis.pid'), { force: true });
  // nodes.conf is kept across a restart: the node comes back with its identity and rejoins.
  // biome-ignore format: option pairs
  await run('redis-server', [
    '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
    '--cluster-node-timeout', String(NODE_TIMEOUT_MS), '--cluster-replica-validity-factor', '0',
    '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
    '--pidfile', join(dir, 'redis.pid'), '--dir', dir, '--logfile', join(dir, 'redis.log'),
  ]);
  const ready = async (): Promise<boolean> => (await readPid(dir)) !== undefined && (await pingRedis(port));
  const failed = async (): Promise<string> =>
    `cluster node on port ${port} did not answer PING\n--- log ---\n${await tailOf(join(dir, 'redis.log'))}`;
  await waitUntil(ready, START_TIMEOUT_MS, failed, 25);
  return (await readPid(dir))!;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], 10_000)).stdout;
}

/** `CLUSTER SHARDS`-free parse of CLUSTER NODES: masters that are up, with their slot ranges. */
function parseMasters(nodesText: string): { port: number; slots: [number, number][] }[] {
  const masters: { port: number; slots: [number, number][] }[] = [];
  for (const line of nodesText.trim().split('\n')) {
    const [, address, flags, , , , , state, ...ranges] = line.split(' ');
    if (!flags?.includes('master') || flags.includes('fail') || state !== 'connected') continue;
    const port = Number(address!.split('@')[0]!.split(':').at(-1));
    const slots = ranges
      .filter((r) => !r.startsWith('['))
      .map((r) => r.split('-').map(Number))
      .map(([from, to]) => [from!, to ?? from!] as [number, number]);
    if (slots.length) masters.push({ port, slots });
  }
  return masters;
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'cachegate-redis-cluster-'));
  const nodes: (ClusterNode & { busPort: number; dir: string })[] = [];
  try {
    const ports = new Set<number>();
    while (ports.size < NODE_COUNT * 2) ports.add(await getFreePort());
    const list = [...ports];
    for (let i = 0; i < NODE_COUNT; i += 1)
      nodes.push({ port: list[i]!, busPort: list[NODE_COUNT + i]!, dir: join(dir, `node-${i}`), pid: undefined });
    await Promise.all(
      nodes.map(async (node) => {
        node.pid = await launchNode(node.dir, node.port, node.busPort);
      }),
    );
    // biome-ignore format: one command line
    await run('redis-cli', [
      '--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes',
    ], 30_000);
    const handle = clusterHandle(dir, nodes);
    await waitUntilOk(nodes, START_TIMEOUT_MS);
    return handle;
  } catch (error) {
    for (const node of nodes) killAndWaitSync(node.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Every running node reports cluster_state:ok and sees 3 masters covering all 16384 slots. */
async function waitUntilOk(nodes: ClusterNode[], timeoutMs: number): Promise<number> {
  const ok = async (): Promise<boolean> => {
    const running = nodes.filter((n) => n.pid !== undefined);
    const infos = await Promise.all(running.map((n) => cli(n.port, 'cluster', 'info').catch(() => '')));
    if (!infos.every((info) => info.includes('cluster_state:ok'))) return false;
    const views = await Promise.all(running.map((n) => cli(n.port, 'cluster', 'nodes').catch(() => '')));
    return views.every((view) => {
      const masters = parseMasters(view);
      const covered = masters.flatMap((m) => m.slots).reduce((sum, [from, to]) => sum + to - from + 1, 0);
      return masters.length === 3 && covered === 16_384;
    });
  };
  return waitUntil(ok, timeoutMs, 'the redis cluster to be ok', 100);
}

function clusterHandle(dir: string, nodes: (ClusterNode & { busPort: number; dir: string })[]): RedisCluster {
  const anyRunning = (): ClusterNode => {
    const node = nodes.find((n) => n.pid !== undefined);
    if (!node) throw new Error('no cluster node is running');
    return node;
  };
  const masters = async () => parseMasters(await cli(anyRunning().port, 'cluster', 'nodes'));
  const ownerOf = async (key: string) => {
    const slot = calculateSlot(key);
    return (await masters()).find((m) => m.slots.some(([from, to]) => slot >= from && slot <= to));
  };
  const destroy = async (): Promise<void> => {
    for (const node of nodes) {
      killAndWaitSync(node.pid, 'SIGKILL');
      node.pid = undefined;
    }
    await rm(dir, { recursive: true, force: true });
  };
  return {
    url: `redis-cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodeList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    nodes,
    dir,
    masters,
    async killMaster(key) {
      const victim = key === undefined ? (await masters())[0] : await ownerOf(key);
      const node = nodes.find((n) => n.port === victim?.port);
      if (!node?.pid) throw new Error('no running master to kill');
      const pid = node.pid;
      killAndWaitSync(pid, 'SIGKILL');
      node.pid = undefined;
      await waitUntil(async () => !isProcessAlive(pid) && !(await isPortOpen(node.port)), 5_000, 'the master to die');
      return { port: node.port };
    },
    async waitForFailover(port, timeoutMs = 15_000) {
      const took = await waitUntil(
        async () => !(await masters().catch(() => [])).some((m) => m.port === port),
        timeoutMs,
        `a replica to take over from the master on port ${port}`,
        100,
      );
      return took + (await waitUntilOk(nodes, timeoutMs));
    },
    async promoteReplica(key) {
      const from = (await ownerOf(key))?.port;
      const lines = (await cli(anyRunning().port, 'cluster', 'nodes'))
        .trim()
        .split('\n')
        .map((l) => l.split(' '));
      const portOf = (address: string): number => Number(address.split('@')[0]!.split(':').at(-1));
      const masterId = lines.find((l) => portOf(l[1]!) === from)?.[0];
      const replica = lines.find((l) => l[2]!.includes('slave') && l[3] === masterId);
      if (from === undefined || !replica) throw new Error(`no replica of the master serving ${key}`);
      const to = portOf(replica[1]!);
      await cli(to, 'cluster', 'failover', 'takeover');
      await waitUntil(async () => (await ownerOf(key))?.port === to, 15_000, `port ${to} to take over`, 100);
      await waitUntilOk(nodes, 15_000);
      return { from, to };
    },
    async restart(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no cluster node on port ${port}`);
      if (node.pid !== undefined) return;
      node.pid = await launchNode(node.dir, node.port, node.busPort);
      await waitUntilOk(nodes, START_TIMEOUT_MS);
    },
    destroy,
    killNow() {
      for (const node of nodes) killAndWaitSync(node.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
