// The coarse network a session shows (src/accounts/client-network.ts): never the full address.
import { describe, expect, it } from 'vitest';
import { coarseNetwork } from '../../src/accounts/client-network.ts';

describe('coarseNetwork', () => {
  it.each([
    ['203.0.113.57', '203.0.113.0/24'],
    ['::ffff:198.51.100.7', '198.51.100.0/24'],
    ['2001:db8:abcd:12::1', '2001:db8:abcd::/48'],
    ['2001:0db8::7', '2001:db8:0::/48'],
    ['::1', '0:0:0::/48'],
    ['fe80::1%eth0', 'fe80:0:0::/48'],
    ['not an ip', null],
    [undefined, null],
  ])('%s → %s', (ip, network) => expect(coarseNetwork(ip)).toBe(network));
});
