// The client's address, for per-IP limits. X-Forwarded-For is only believed behind a proxy we trust
// (TRUST_PROXY=true); otherwise anyone could pick their own IP and escape every per-IP limit.
import { isIP } from 'node:net';

export function clientIpOf(
  headers: Record<string, string | string[] | undefined>,
  remoteAddress: string | undefined,
  trustProxy: boolean,
): string {
  if (trustProxy) {
    const forwarded = headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first && isIP(first)) return first;
  }
  return remoteAddress ?? 'unknown';
}
