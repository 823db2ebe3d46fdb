// The fault drills of `npm run drill` (drill/scenarios/*), each in its short form: real PostgreSQL and
// redis-server of their own (the drills stop and kill them, so not the run's shared servers), gateways as
// child processes, one fault each. Fails with the drill's pass/fail table. Drills listed in KNOWN_FAILING
// (drill/lib/scenarios.ts) found a fault not fixed yet and are left out, with their reason printed.
import { expect, it } from 'vitest';
import { resultTable } from '../../drill/lib/report.ts';
import { runScenarios } from '../../drill/lib/runner.ts';
import { KNOWN_FAILING, SCENARIOS } from '../../drill/lib/scenarios.ts';

const scenarios = SCENARIOS.filter((s) => !(s.name in KNOWN_FAILING));

it('every fault drill passes in its short form', { timeout: 600_000 }, async () => {
  for (const [name, reason] of Object.entries(KNOWN_FAILING)) console.warn(`[drills] left out: ${name}: ${reason}`);
  const results = await runScenarios(scenarios, { short: true, log: () => undefined });
  expect(results.map((r) => r.name)).toEqual(scenarios.map((s) => s.name));
  expect(
    results.filter((r) => !r.pass).map((r) => r.name),
    resultTable(results),
  ).toEqual([]);
  expect(results.every((r) => r.checks.length > 0)).toBe(true);
});
