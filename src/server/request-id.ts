// Request ids: taken from a well-formed X-Request-Id (so a trace spans the load balancer and us),
// otherwise made here. Every log line of a request and every error a client sees carries it.
import { randomUUID } from 'node:crypto';

const ACCEPTABLE = /^[A-Za-z0-9._-]{8,64}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && ACCEPTABLE.test(value) ? value : randomUUID();
}
