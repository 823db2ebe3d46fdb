// One of two gateways dies (SIGKILL: no drain) under load; the load balancer stops sending to it. The
// other keeps serving, subscribers on the dead one reconnect to the survivor and resume with afterSequence
// (no change missed), and everything either gateway acknowledged is in PostgreSQL.
import { drive, failures, finish, noFailures, window } from '../lib/drive.ts';
import { isTrue, zero, type Scenario } from '../lib/scenario.ts';
import type { DrillGateway } from '../lib/stack.ts';

export const gatewayKill: Scenario = {
  name: 'gateway-kill',
  title: 'SIGKILL one of two gateways under load: the other serves, subscribers resume, nothing committed is lost.',
  full: { before: 5_000, fault: 5_000, after: 10_000 },
  short: { before: 1_000, fault: 1_000, after: 2_000 },
  async run(drill) {
    const { stack } = drill;
    const gateways = await stack.startGateways(2);
    const [survivor, victim] = gateways as [DrillGateway, DrillGateway];
    let live: DrillGateway[] = [survivor, victim];
    const run = await drive(drill, {
      gateways,
      targets: () => live,
      inject: async () => {
        victim.kill();
        live = [survivor];
      },
      heal: async () => undefined,
    });
    const survivorReads = window(run, 0, run.endedAt, 'read', undefined, [survivor.name]);
    const inFlight = run.load.samples.filter((s) => s.gateway === victim.name && !s.ok);
    const moved = run.seatWatchers.filter((w) => w.reconnects > 0);
    const sql = await stack.sql();
    const checks = [
      noFailures('failed reads on the surviving gateway', survivorReads),
      zero('hung reads on the surviving gateway', survivorReads.hung.length),
      {
        name: 'calls in flight on the killed gateway (cut; a client retries them)',
        value: failures(inFlight),
        bound: 'reported',
        pass: true,
      },
      isTrue(
        'subscribers of the killed gateway reconnected to the survivor',
        moved.length >= run.seatWatchers.length / 2,
        `${moved.length} of ${run.seatWatchers.length}`,
      ),
      ...(await finish(drill, run, sql)),
    ];
    return checks;
  },
};
