// The fault drills of `npm run drill` (drill/scenarios/*), each in its short form: real PostgreSQL and
// redis-server of their own (the drills stop and kill them, so not the run's shared servers), gateways as
// child processes, one fault each. Fails with the drill's pass/fail table.
import { expect, it } from 'vitest';
import { resultTable } from '../../drill/lib/report.ts';
import { runScenarios } from '../../drill/lib/runner.ts';
import { SCENARIOS } from '../../drill/lib/scenarios.ts';

it('every fault drill passes in its short form', { timeout: 300_000 }, async () => {
  const results = await runScenarios(SCENARIOS, { short: true, log: () => undefined });
  const table = resultTable(results);
  expect(results.map((r) => r.name)).toEqual(SCENARIOS.map((s) => s.name));
  expect(
    results.filter((r) => !r.pass).map((r) => r.name),
    table,
  ).toEqual([]);
  expect(results.every((r) => r.checks.length > 0)).toBe(true);
});
