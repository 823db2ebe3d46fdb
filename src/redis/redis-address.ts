// Redis addresses: one string names any of the three topologies (docs/ARCHITECTURE.md "Redis topologies").
//   redis://[user:pass@]host:port[/db], rediss://…               one server (or a proxy in front of many)
//   redis-cluster://[user:pass@]host:port,host:port,…            Redis Cluster, seeded from these nodes
//   redis-sentinel://[user:pass@]host:port,host:port,…/<name>    the primary that the sentinels call <name>
//   rediss-cluster://, rediss-sentinel://                           the same over TLS
// Pure parsing, no client: the configuration validates addresses with it.

export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; auth: Auth; tls: boolean }
  | { kind: 'sentinel'; sentinels: HostPort[]; name: string; auth: Auth; tls: boolean };

export interface HostPort {
  host: string;
  port: number;
}

interface Auth {
  username?: string;
  password?: string;
}

const LIST_URL = /^redis(s?)-(cluster|sentinel):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)(?:\/(.*))?$/;

/** Parses a Redis address (see the top of this file); throws with a short reason when it is not one. */
export function parseRedisTarget(address: string): RedisTarget {
  const listed = LIST_URL.exec(address);
  if (!listed) {
    if (!/^rediss?:\/\//.test(address))
      throw new Error('must be a redis://, rediss://, redis-cluster:// or redis-sentinel:// address');
    return { kind: 'single', url: address };
  }
  const [, secure, kind, user, pass, hosts = '', rest = ''] = listed;
  const auth: Auth = {
    ...(user && { username: decodeURIComponent(user) }),
    ...(pass && { password: decodeURIComponent(pass) }),
  };
  const nodes = parseHostList(hosts);
  if (kind === 'cluster') return { kind: 'cluster', nodes, auth, tls: secure === 's' };
  if (!rest) throw new Error('a redis-sentinel:// URL ends with /<primary name>');
  return { kind: 'sentinel', sentinels: nodes, name: decodeURIComponent(rest), auth, tls: secure === 's' };
}

/** "host:port,host:port" (IPv6 as [addr]:port); throws on an entry without a valid port. */
export function parseHostList(list: string): HostPort[] {
  const nodes = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match || port < 1 || port > 65535) throw new Error(`"${entry}" is not host:port`);
      return { host: match[1]!, port };
    });
  if (nodes.length === 0) throw new Error('lists no host:port');
  return nodes;
}

/** The address string for host lists given as separate variables (REDIS_CLUSTER_NODES, REDIS_SENTINELS). */
export function listAddress(kind: 'cluster' | 'sentinel', nodes: HostPort[], name = ''): string {
  const hosts = nodes.map((n) => (n.host.includes(':') ? `[${n.host}]:${n.port}` : `${n.host}:${n.port}`)).join(',');
  return kind === 'cluster' ? `redis-cluster://${hosts}` : `redis-sentinel://${hosts}/${encodeURIComponent(name)}`;
}
