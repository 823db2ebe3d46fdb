// A Redis Cluster failover can lose writes the old master acknowledged: replication is asynchronous, so
// the promoted replica may lack the last deletes, purge markers and index entries the master took before
// it died. For a cache that means stale values no later write knows to remove (a stored answer whose index
// entry was lost stays until its TTL). Each slot-map refresh is compared with what was seen before: when a
// master has lost every one of its slots to other nodes, it failed over (or was drained by a resharding,
// which moves keys intact: dropping caches then only costs a refill), and the listener is told which nodes
// took its slots, so the caches can drop what Redis may hold wrongly (docs/ARCHITECTURE.md "Redis
// topologies"). A replica list cannot tell: CLUSTER SLOTS leaves out a replica that has not replicated yet.
import type { Cluster } from './connection.ts';

/** Calls `onFailover` with the nodes (host:port) that took over after each refresh that shows a failover. */
export function watchFailovers(cluster: Cluster, onFailover: (promoted: string[]) => void): () => void {
  // Each slot's master as last seen. A map taken while a master is failing may leave its slots out: they
  // keep the master seen before, so the takeover is still noticed afterwards.
  const owners: string[] = [];
  const compare = (): string[] => {
    const moved = new Map<string, Set<string>>(); // old master -> the nodes that took its slots
    const masters = new Set<string>();
    for (const [slot, nodes] of cluster.slots.entries()) {
      const owner = nodes?.[0];
      if (!owner) continue;
      masters.add(owner);
      const before = owners[slot];
      owners[slot] = owner;
      if (before === undefined || before === owner) continue;
      let takers = moved.get(before);
      if (!takers) moved.set(before, (takers = new Set()));
      takers.add(owner);
    }
    const promoted = new Set<string>();
    for (const [old, takers] of moved) if (!masters.has(old)) for (const node of takers) promoted.add(node);
    return [...promoted];
  };
  compare(); // the map the client already has, if it has connected
  const onRefresh = (): void => {
    const promoted = compare();
    if (promoted.length) onFailover(promoted);
  };
  cluster.on('refresh', onRefresh);
  return () => cluster.off('refresh', onRefresh);
}
