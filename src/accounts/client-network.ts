// The coarse network a session signed in from, for the user's session list: an IPv4 address becomes its
// /24 and an IPv6 address its /48, so a user recognises "home" or "office" while the full address is
// never stored.
import { isIPv4, isIPv6 } from 'node:net';

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right];
}

export function coarseNetwork(ip: string | undefined): string | null {
  if (!ip) return null;
  const address = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').replace(/%.*$/, '');
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  if (isIPv6(address)) {
    const groups = expandIPv6(address)
      .slice(0, 3)
      .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
    return `${groups.join(':')}::/48`;
  }
  return null;
}
