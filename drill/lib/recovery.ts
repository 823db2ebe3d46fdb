// Recovery after a Redis fault: every gateway's circuit closed again and no cluster node's slots refused
// (/readyz), and keys written to Redis.
import { readiness } from './http.ts';
import type { DrillGateway } from './stack.ts';
import { waitUntil } from '../../test/support/wait.ts';

/** Waits until every gateway uses Redis again; resolves with the ms it took and the keys then counted. */
export async function untilRedisUsedAgain(
  gateways: readonly DrillGateway[],
  countKeys: () => Promise<number>,
  timeoutMs: number,
): Promise<{ ms: number; keys: number }> {
  let keys = 0;
  const ms = await waitUntil(
    async () => {
      const states = await Promise.all(gateways.map((g) => readiness(g.base)));
      if (!states.every((s) => s.body.redisCircuit === 'closed' && !s.body.redisNodesDown?.length)) return false;
      keys = await countKeys();
      return keys > 0;
    },
    timeoutMs,
    'the gateways to use Redis again',
    50,
  );
  return { ms, keys };
}
