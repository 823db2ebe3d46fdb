// Runs scenarios one after another on one shared PostgreSQL + redis-server, each on a fresh copy of the
// seeded database with its own gateways, and turns each into a ScenarioResult (a scenario that throws
// fails, with the error in the table). Used by drill/run.ts and by test/drills/drills.test.ts.
import type { ScenarioResult } from './report.ts';
import type { Scenario } from './scenario.ts';
import { openStack, startSharedInfra } from './stack.ts';

export interface RunOptions {
  short: boolean;
  log?(message: string): void;
}

/** Shoppers per scenario: 3 holding seats, 2 checking out (drill/lib/load.ts). */
const SHOPPERS = 5;

export async function runScenarios(scenarios: readonly Scenario[], options: RunOptions): Promise<ScenarioResult[]> {
  const log = options.log ?? ((message: string) => console.error(message));
  const shared = await startSharedInfra();
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios) {
      const started = performance.now();
      const timings = options.short ? scenario.short : scenario.full;
      const form = options.short ? 'short' : 'full';
      log(`[drill] ${scenario.name} (${form})`);
      const stack = await openStack(shared.infra, SHOPPERS);
      let result: Omit<ScenarioResult, 'seconds'>;
      try {
        const checks = await scenario.run({
          stack,
          short: options.short,
          timings,
          log: (message) => log(`[drill] ${scenario.name}: ${message}`),
        });
        result = { name: scenario.name, title: scenario.title, form, pass: checks.every((c) => c.pass), checks };
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        result = { name: scenario.name, title: scenario.title, form, pass: false, checks: [], error: message };
      } finally {
        await stack.close();
      }
      // What the gateways logged as errors says why a check failed (an error a client saw masked, say).
      if (!result.pass)
        for (const line of stack.errorLines(10)) log(`[drill] ${scenario.name}: ${line.slice(0, 1500)}`);
      results.push({ ...result, seconds: (performance.now() - started) / 1000 });
    }
  } finally {
    await shared.destroy();
  }
  return results;
}
