// PostgreSQL stops under load (fast shutdown: every connection cut) and starts again: cached reads keep
// answering, writes fail fast with SERVICE_UNAVAILABLE (no hang, no half-done write), /readyz says 503,
// and everything works again once the database is back.
import { drive, failures, finish, noFailures, window } from '../lib/drive.ts';
import { post, readiness } from '../lib/http.ts';
import { atMost, isTrue, zero, latencyBound, type Scenario } from '../lib/scenario.ts';
import { sleep, waitUntil } from '../../test/support/wait.ts';

const WRITE_KINDS = ['write', 'hold', 'confirm', 'cart', 'checkout'] as const;
const FAIL_FAST_BOUND_MS = 2_000;
const RECOVERY_BOUND_MS = 10_000;

export const postgresStop: Scenario = {
  name: 'postgres-stop',
  title: 'Stop PostgreSQL under load, start it again: cached reads answer, writes fail fast, /readyz 503, recovery.',
  full: { before: 5_000, fault: 10_000, after: 10_000 },
  short: { before: 1_000, fault: 2_000, after: 3_000 },
  async run(drill) {
    const { stack } = drill;
    const [gateway] = await stack.startGateways(1);
    let readyDuring = 0;
    let unavailableAfterMs = Number.NaN;
    let recoveryMs = Number.NaN;
    let stopped = 0;
    const run = await drive(drill, {
      gateways: [gateway!],
      inject: async () => {
        stopped = performance.now();
        await stack.infra.pg.stop();
      },
      during: async () => {
        unavailableAfterMs = await waitUntil(
          async () => (readyDuring = (await readiness(gateway!.base)).status) === 503,
          drill.timings.fault,
          '/readyz to say 503',
          100,
        ).then(() => performance.now() - stopped);
      },
      heal: () => stack.infra.pg.start(),
      afterHeal: async () => {
        const started = performance.now();
        const probe = `query { product(id: "${stack.fixtures.writeProductIds[0]}") { id } }`;
        await waitUntil(
          async () => (await readiness(gateway!.base)).status === 200 && (await post(gateway!.url, probe)).ok,
          30_000,
          'the gateway to serve again',
          100,
        );
        recoveryMs = performance.now() - started;
        await sleep(0);
      },
    });
    const cached = window(run, run.faultAt, run.healedAt, 'read', ['product']);
    // Every product write bumps the product lists' generation, so the list the last write before the outage
    // invalidated cannot be answered until PostgreSQL is back: reported, not a failure.
    const lists = window(run, run.faultAt, run.healedAt, 'read', ['list']);
    const outageWrites = WRITE_KINDS.flatMap((kind) => window(run, run.faultAt, run.healedAt, kind).samples);
    const wrongCode = outageWrites.filter((s) => !s.ok && s.code !== 'SERVICE_UNAVAILABLE');
    const slowest = Math.max(0, ...outageWrites.filter((s) => !s.ok).map((s) => s.ms));
    const settled = run.healedAt + recoveryMs + 1_000;
    const lateWrites = WRITE_KINDS.flatMap((kind) => window(run, settled, run.endedAt, kind).samples);
    const sql = await stack.sql();
    return [
      noFailures('failed cached reads during the outage', cached),
      zero('hung cached reads (no answer within the client timeout)', cached.hung.length),
      {
        name: `product-list reads answered during the outage (lists invalidated by the last write before it)`,
        value: `${lists.samples.length - lists.failed.length} of ${lists.samples.length}`,
        bound: 'reported',
        pass: lists.hung.length === 0,
      },
      {
        ...zero(`failed writes not SERVICE_UNAVAILABLE (of ${outageWrites.length} in the outage)`, wrongCode.length),
        value: failures(wrongCode),
      },
      atMost(
        'slowest refused write during the outage',
        slowest,
        latencyBound(drill, FAIL_FAST_BOUND_MS) * (drill.short ? 2 : 1),
      ),
      isTrue(
        '/readyz 503 during the outage',
        readyDuring === 503,
        `${readyDuring} after ${Math.round(unavailableAfterMs)} ms`,
      ),
      atMost('recovery: start to /readyz 200 and a database read', recoveryMs, RECOVERY_BOUND_MS),
      {
        ...zero(
          `failed writes from 1 s after recovery (of ${lateWrites.length})`,
          lateWrites.filter((s) => !s.ok).length,
        ),
        value: failures(lateWrites.filter((s) => !s.ok)),
      },
      ...(await finish(drill, run, sql)),
    ];
  },
};
