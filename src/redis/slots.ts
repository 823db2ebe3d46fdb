// Multi-key work that holds on every topology (docs/ARCHITECTURE.md "Redis topologies"). Redis Cluster
// refuses a command or script whose keys lie in different hash slots (CROSSSLOT), so on a cluster the
// keys are split by slot and each group is sent on its own, all at once (ioredis writes a command to its
// node's socket without waiting for earlier replies). On one server (or a Sentinel primary) nothing is split.
import calculateSlot from 'cluster-key-slot';
import { Cluster, type Redis } from './connection.ts';

export function isCluster(redis: Redis): redis is Cluster {
  return redis instanceof Cluster;
}

/** The keys' positions grouped by hash slot on a cluster; one group of every position elsewhere. */
export function slotGroups(redis: Redis, keys: readonly string[]): number[][] {
  if (!isCluster(redis)) return [keys.map((_, index) => index)];
  const bySlot = new Map<number, number[]>();
  for (const [index, key] of keys.entries()) {
    const slot = calculateSlot(key);
    let group = bySlot.get(slot);
    if (!group) bySlot.set(slot, (group = []));
    group.push(index);
  }
  return [...bySlot.values()];
}

/** Runs `run` once per slot group of `keys`, in parallel; answers in the order of the groups. */
export function perSlot<T>(redis: Redis, keys: readonly string[], run: (keys: string[]) => Promise<T>): Promise<T[]> {
  return Promise.all(slotGroups(redis, keys).map((group) => run(group.map((i) => keys[i]!))));
}

/** MGET across slots: the values in the order of `keys`. */
export async function mgetAll(redis: Redis, keys: readonly string[]): Promise<(string | null)[]> {
  const groups = slotGroups(redis, keys);
  if (groups.length === 1) return redis.mget([...keys]);
  const values: (string | null)[] = new Array(keys.length).fill(null);
  await Promise.all(
    groups.map(async (group) => {
      const found = await redis.mget(group.map((i) => keys[i]!));
      for (const [position, index] of group.entries()) values[index] = found[position] ?? null;
    }),
  );
  return values;
}

/** UNLINK across slots; the number of keys removed. */
export async function unlinkAll(redis: Redis, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const counts = await perSlot(redis, keys, (group) => redis.unlink(...group));
  return counts.reduce((sum, n) => sum + n, 0);
}

/** EXISTS across slots: how many of the keys exist. */
export async function countExisting(redis: Redis, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const counts = await perSlot(redis, keys, (group) => redis.exists(...group));
  return counts.reduce((sum, n) => sum + n, 0);
}

/**
 * SCAN with MATCH over the whole keyspace: every master of a cluster in turn (a replica holds nothing
 * of its own), or the one server. `onKeys` sees each page as it comes.
 */
export async function scanAll(
  redis: Redis,
  pattern: string,
  onKeys: (keys: string[]) => Promise<void> | void,
): Promise<void> {
  const nodes: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await onKeys(keys);
    } while (cursor !== '0');
  }
}

/** UNLINKs every key matching `pattern` (scanAll) that `select` accepts (default: all). */
export function unlinkMatching(
  redis: Redis,
  pattern: string,
  select: (key: string) => boolean = () => true,
): Promise<void> {
  return scanAll(redis, pattern, async (keys) => {
    await unlinkAll(redis, keys.filter(select));
  });
}

/**
 * Subscribers of a bus channel: PUBSUB NUMSUB on one server; on a cluster the bus is sharded, so PUBSUB
 * SHARDNUMSUB, summed over every node (each counts only the connections made to it).
 */
export async function countSubscribers(redis: Redis, channel: string): Promise<number> {
  if (!isCluster(redis)) return Number(((await redis.pubsub('NUMSUB', channel)) as [string, number])[1]);
  const replies = await Promise.all(
    redis.nodes('all').map((node) => node.pubsub('SHARDNUMSUB', channel) as Promise<[string, number]>),
  );
  return replies.reduce((sum, reply) => sum + Number(reply[1]), 0);
}

/** A key's companion (`<key>:<suffix>`) kept in the key's own hash slot, so one script may touch both. */
export function companionKey(key: string, suffix: string): string {
  return /^[^{]*\{[^}]+\}/.test(key) ? `${key}:${suffix}` : `{${key}}:${suffix}`;
}

/** A key filed under `name` (an entity key or tag) whose slot is that of `name` itself. */
export function taggedKey(prefix: string, name: string): string {
  return `${prefix}{${name.replaceAll('{', '(').replaceAll('}', ')')}}`;
}
