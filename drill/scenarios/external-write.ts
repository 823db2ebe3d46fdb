// Another program (its own pg connection and application_name, not the gateway) changes a product with
// plain SQL while the gateways serve it from their caches: every instance serves the new value within 1 s.
import pg from 'pg';
import { drive, noFailures, finish, window } from '../lib/drive.ts';
import { post } from '../lib/http.ts';
import { READ_PRODUCT } from '../lib/load.ts';
import { atMost, latencyBound, type Scenario } from '../lib/scenario.ts';
import type { DrillGateway } from '../lib/stack.ts';
import { sleep } from '../../test/support/wait.ts';

const BOUND_MS = 1_000;

/** How often a new read is started while waiting, and how many may be in flight at once per gateway. */
const POLL_MS = 20;
const POLL_IN_FLIGHT = 4;

/**
 * ms from `since` (the commit) until `gateway` first answers `name` for product `id`; stops at 5 s. A read
 * is started every POLL_MS whether or not the earlier ones have answered (a few at most in flight), so the
 * figure is the staleness a client sees, not the gap between one slow read and the next.
 */
async function timeToSee(gateway: DrillGateway, id: number, name: string, since: number): Promise<number> {
  let seenAfter = Number.POSITIVE_INFINITY;
  const inFlight = new Set<Promise<void>>();
  while (seenAfter === Number.POSITIVE_INFINITY && performance.now() - since < 5_000) {
    if (inFlight.size < POLL_IN_FLIGHT) {
      const read = post<{ product: { name: string } }>(gateway.url, READ_PRODUCT, { id: String(id) }).then((reply) => {
        if (reply.data?.product?.name === name) seenAfter = Math.min(seenAfter, performance.now() - since);
      });
      inFlight.add(read);
      void read.finally(() => inFlight.delete(read));
    }
    await Promise.race([sleep(POLL_MS), ...inFlight]);
  }
  await Promise.allSettled(inFlight);
  return seenAfter;
}

export const externalWrite: Scenario = {
  name: 'external-write',
  title: 'A plain SQL UPDATE by another program while two gateways serve: both serve the new value within 1 s.',
  full: { before: 3_000, fault: 15_000, after: 2_000 },
  short: { before: 1_000, fault: 2_000, after: 500 },
  async run(drill) {
    const { stack } = drill;
    const gateways = await stack.startGateways(2);
    const other = new pg.Client({ connectionString: stack.database.url, application_name: 'drill-other-program' });
    await other.connect();
    const delays: number[] = [];
    try {
      const run = await drive(drill, {
        gateways,
        inject: async () => undefined,
        during: async () => {
          const { hotProductIds } = stack.fixtures;
          const until = performance.now() + drill.timings.fault - 1_000;
          for (let n = 0; performance.now() < until && n < 50; n++) {
            const id = hotProductIds[n % hotProductIds.length]!;
            const name = `Changed elsewhere ${n}`;
            await other.query('UPDATE "Product" SET name = $1, "updatedAt" = now() WHERE id = $2', [name, id]);
            const since = performance.now(); // committed: the other program's UPDATE has returned
            delays.push(Math.max(...(await Promise.all(gateways.map((g) => timeToSee(g, id, name, since))))));
            await sleep(200);
          }
        },
        heal: async () => undefined,
      });
      const reads = window(run, 0, run.endedAt, 'read');
      const sql = await stack.sql();
      return [
        atMost(
          `slowest of ${delays.length} external writes seen by both gateways`,
          Math.max(0, ...delays),
          latencyBound(drill, BOUND_MS),
        ),
        noFailures('failed reads', reads),
        ...(await finish(drill, run, sql)),
      ];
    } finally {
      await other.end();
    }
  },
};
