// The fault drills of `npm run drill` (drill/scenarios/*), each in its short form: real PostgreSQL and
// redis-server of their own (the drills stop and kill them, so not the run's shared servers), gateways as
// child processes, one fault each. Fails with the drill's pass/fail table. Drills listed in KNOWN_FAILING
// (drill/lib/scenarios.ts) found a fault not fixed yet and are left out, with their reason printed.
//
// A drill that fails is printed with its table and run once more: a short drill on two cores shared with
// the rest of the suite still fails now and then (docs/ARCHITECTURE.md "Fault drills" lists what is
// known). The test fails when a drill fails twice in a row; every first failure stays in the output.
import { expect, it } from 'vitest';
import { resultTable } from '../../drill/lib/report.ts';
import { runScenarios } from '../../drill/lib/runner.ts';
import { KNOWN_FAILING, SCENARIOS } from '../../drill/lib/scenarios.ts';

const scenarios = SCENARIOS.filter((s) => !(s.name in KNOWN_FAILING));

it('every fault drill passes in its short form', { timeout: 600_000 }, async () => {
  for (const [name, reason] of Object.entries(KNOWN_FAILING)) console.warn(`[drills] left out: ${name}: ${reason}`);
  // The runner's progress stays quiet; a failed drill's gateway error lines are printed with its table.
  const gatewayErrors: string[] = [];
  const log = (message: string): void => void (message.includes('"level":50') && gatewayErrors.push(message));
  const first = await runScenarios(scenarios, { short: true, log });
  expect(first.map((r) => r.name)).toEqual(scenarios.map((s) => s.name));
  const failed = first.filter((r) => !r.pass);
  if (failed.length > 0)
    console.warn(`[drills] failed once, run again:\n${resultTable(failed)}\n${gatewayErrors.join('\n')}`);
  const again = await runScenarios(
    scenarios.filter((s) => failed.some((r) => r.name === s.name)),
    { short: true, log },
  );
  const results = first.map((r) => again.find((a) => a.name === r.name) ?? r);
  expect(
    results.filter((r) => !r.pass).map((r) => r.name),
    resultTable(results),
  ).toEqual([]);
  expect(results.every((r) => r.checks.length > 0)).toBe(true);
});
