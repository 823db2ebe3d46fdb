// ioredis subscribes a cluster's sharded channels again by itself after a failover, but an SSUBSCRIBE that
// fails then (e.g. the cluster still down, or MOVED under an unchanged slot map) is dropped with no retry
// and no event, and Redis ends the sharded subscriptions of a slot that moves to another node. The bus
// would then hear nothing on that channel, for good. So what each shard connection has had acknowledged
// is compared with the channels the bus listens to, and a channel its shard's live connection lacks at
// two checks in a row (not one just being subscribed) is subscribed again. A connection that acknowledges
// everything and still hears nothing only shows end to end: the bus's probes (channel-probes.ts) find it,
// and `repairShardChannels` replaces it (docs/ARCHITECTURE.md "Redis topologies").
import calculateSlot from 'cluster-key-slot';
import type { Cluster } from '../redis/connection.ts';

/** ioredis 5's private sharded subscriber group: read only, and only what is needed. */
interface ShardGroupInternals {
  shardedSubscribers?: { shardedSubscribers?: Map<string, { getInstance(): ShardConnection | null }> };
}

interface ShardConnection {
  status: string;
  condition?: { subscriber?: false | { channels(set: 'ssubscribe'): string[] } } | null;
  disconnect(): void;
}

function shardGroup(cluster: Cluster): Map<string, { getInstance(): ShardConnection | null }> | undefined {
  const group = (cluster as unknown as ShardGroupInternals).shardedSubscribers?.shardedSubscribers;
  return group instanceof Map ? group : undefined;
}

/** The connection of the shard that owns the channel's slot, as ioredis has it now. */
function shardConnectionOf(cluster: Cluster, channel: string): ShardConnection | null | undefined {
  const owner = cluster.slots[calculateSlot(channel)]?.[0];
  return owner === undefined ? undefined : shardGroup(cluster)?.get(owner)?.getInstance();
}

/**
 * The channels whose slot owner's shard connection is up but has not acknowledged them; undefined when
 * ioredis does not say. A connection that is not up is ioredis's to subscribe again when it is.
 */
function unacknowledgedShardChannels(cluster: Cluster, channels: Iterable<string>): string[] | undefined {
  if (!shardGroup(cluster)) return undefined;
  const acknowledged = new Map<ShardConnection, Set<string>>();
  const missing: string[] = [];
  for (const channel of channels) {
    const connection = shardConnectionOf(cluster, channel);
    if (connection?.status !== 'ready') continue;
    let known = acknowledged.get(connection);
    if (!known) {
      const subscriber = connection.condition?.subscriber;
      known = new Set(subscriber ? subscriber.channels('ssubscribe') : []);
      acknowledged.set(connection, known);
    }
    if (!known.has(channel)) missing.push(channel);
  }
  return missing;
}

/**
 * Makes the subscriptions of channels found deaf end to end (channel-probes.ts) again. A channel its shard's
 * live connection still acknowledges is on a connection that hears nothing (half-open, say): that
 * connection is closed, and ioredis replaces it and subscribes its channels again (then emits
 * `subscribersReady`). Any other channel is subscribed again, and ioredis is asked to look at its shard
 * connections now rather than at its next periodic refresh.
 */
export function repairShardChannels(cluster: Cluster, channels: readonly string[]): void {
  const deaf = new Set<ShardConnection>();
  for (const channel of channels) {
    const connection = shardConnectionOf(cluster, channel);
    const subscriber = connection?.condition?.subscriber;
    if (connection?.status === 'ready' && subscriber && subscriber.channels('ssubscribe').includes(channel))
      deaf.add(connection);
    else cluster.ssubscribe(channel).catch(() => undefined);
  }
  for (const connection of deaf) connection.disconnect();
  cluster.refreshSlotsCache();
}

/**
 * Every `intervalMs`, subscribes again the channels of `listened()` left unacknowledged by their shard's
 * live connection at this check and the one before; `onResubscribed` then hears that messages may have been
 * missed. Returns the stop function.
 */
export function watchShardSubscriptions(
  cluster: Cluster,
  listened: () => Iterable<string>,
  onResubscribed: (channels: string[]) => void,
  intervalMs: number,
): () => void {
  let missingBefore = new Set<string>();
  const check = (): void => {
    const unacknowledged = cluster.status === 'ready' ? unacknowledgedShardChannels(cluster, listened()) : undefined;
    const missing = new Set(unacknowledged);
    const lost = [...missing].filter((channel) => missingBefore.has(channel));
    missingBefore = missing;
    if (lost.length === 0) return;
    for (const channel of lost) cluster.ssubscribe(channel).catch(() => undefined);
    onResubscribed(lost);
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
