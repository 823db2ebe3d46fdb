// Whose address the per-IP limits count (src/server/client-ip.ts). By default a peer on loopback or a
// private network is a trusted proxy: two clients behind it, told apart by X-Forwarded-For, get their own
// limits (a site behind one load balancer is not throttled as one client). A peer that is not trusted
// cannot choose its address by sending X-Forwarded-For: its requests count against its own.
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { clientIpOf } from '../../src/server/client-ip.ts';
import { useTestGateway, type TestGateway } from '../support/gateway.ts';

/** Three requests a minute per address, before parsing. */
const LIMITED = { RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: '3' };

async function statusesFrom(gateway: TestGateway, forwardedFor: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i += 1)
    statuses.push((await gateway.query('{ __typename }', {}, { 'x-forwarded-for': forwardedFor })).status);
  return statuses;
}

describe('behind a trusted proxy (the default trusts loopback, where the test client is)', () => {
  const gateway = useTestGateway(() => ({ databaseUrl: inject('databaseUrl'), env: LIMITED }));

  it('two clients with different X-Forwarded-For get separate limits', async () => {
    expect(await statusesFrom(gateway(), '203.0.113.10', 3)).toEqual([200, 200, 200]);
    expect(await statusesFrom(gateway(), '203.0.113.11', 3)).toEqual([200, 200, 200]);
    expect(await statusesFrom(gateway(), '203.0.113.10', 1)).toEqual([429]);
  });

  it('the address is the rightmost one not added by a trusted proxy: a client cannot prepend its own', async () => {
    // The client sent "198.51.100.1"; the proxy appended the address it saw, 203.0.113.20.
    expect(await statusesFrom(gateway(), '198.51.100.1, 203.0.113.20', 3)).toEqual([200, 200, 200]);
    expect(await statusesFrom(gateway(), '198.51.100.2, 203.0.113.20', 1)).toEqual([429]);
  });
});

describe('from a peer that is not a trusted proxy (TRUST_PROXY=10.0.0.0/8)', () => {
  const gateway = useTestGateway(() => ({
    databaseUrl: inject('databaseUrl'),
    env: { ...LIMITED, TRUST_PROXY: '10.0.0.0/8' },
  }));

  it('X-Forwarded-For is ignored: every request counts against the peer', async () => {
    expect(await statusesFrom(gateway(), '203.0.113.30', 2)).toEqual([200, 200]);
    expect(await statusesFrom(gateway(), '203.0.113.31', 2)).toEqual([200, 429]);
  });
});

describe('TRUST_PROXY values', () => {
  const trustOf = (value: string) => loadConfig({ TRUST_PROXY: value }).trustProxy;
  const headers = { 'x-forwarded-for': '198.51.100.7, 10.1.2.3' };

  it('true believes every hop, false none, a list only its members', () => {
    expect(clientIpOf(headers, '127.0.0.1', trustOf('true'))).toBe('198.51.100.7');
    expect(clientIpOf(headers, '127.0.0.1', trustOf('false'))).toBe('127.0.0.1');
    expect(clientIpOf(headers, '127.0.0.1', trustOf('loopback'))).toBe('10.1.2.3');
    expect(clientIpOf(headers, '127.0.0.1', trustOf('127.0.0.1, 10.0.0.0/8'))).toBe('198.51.100.7');
    expect(clientIpOf(headers, '::ffff:127.0.0.1', trustOf('loopback'))).toBe('10.1.2.3');
  });

  it('an entry that is not an address stops at the hop that passed it on', () => {
    expect(clientIpOf({ 'x-forwarded-for': 'garbage' }, '127.0.0.1', trustOf('true'))).toBe('127.0.0.1');
    expect(clientIpOf({ 'x-forwarded-for': 'x, 10.1.2.3' }, '127.0.0.1', trustOf('true'))).toBe('10.1.2.3');
  });

  it('anything else stops the start with the variable named', () => {
    expect(() => trustOf('10.0.0.0/99')).toThrow(/TRUST_PROXY/);
    expect(() => trustOf('yes please')).toThrow(/TRUST_PROXY/);
  });
});
