// The client's address, for per-IP limits, the audit log and the WebSocket caps per IP. X-Forwarded-For
// is believed hop by hop, from the right, only while the hop that added an entry is a proxy we trust
// (TRUST_PROXY, read by proxy-addr); otherwise anyone could pick their own IP and escape every per-IP
// limit. The default trusts loopback and private networks, where a load balancer sits: behind one, each
// client gets its own limits instead of the whole site sharing the proxy's.
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';

/** Whether the hop at `address` (`hop` 0 = the peer of the socket) is a proxy whose X-Forwarded-For we believe. */
export type TrustProxy = (address: string, hop: number) => boolean;

export const DEFAULT_TRUST_PROXY = 'loopback, linklocal, uniquelocal';

/**
 * TRUST_PROXY: `true` (every hop: the leftmost address wins, as before the list form existed), `false`
 * (none), or a comma-separated list of addresses, CIDR ranges and proxy-addr's names (loopback,
 * linklocal, uniquelocal). Throws a TypeError on anything else.
 */
export function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim().toLowerCase();
  if (text === 'true' || text === '1') return () => true;
  if (text === 'false' || text === '0' || text === '') return () => false;
  return proxyaddr.compile(text.split(',').map((part) => part.trim()));
}

export function clientIpOf(
  headers: Record<string, string | string[] | undefined>,
  remoteAddress: string | undefined,
  trust: TrustProxy,
): string {
  if (!remoteAddress) return 'unknown';
  if (headers['x-forwarded-for'] === undefined) return remoteAddress;
  // [peer, then X-Forwarded-For from the right, up to and with the first address not trusted]
  const chain = proxyaddr.all({ headers, socket: { remoteAddress } } as never, trust);
  // An entry that is not an address (sent through a trusted proxy) counts as the hop that passed it on.
  for (let i = chain.length - 1; i > 0; i -= 1) if (isIP(chain[i]!)) return chain[i]!;
  return remoteAddress;
}
