// `npm run drill [-- --short] [-- --scenario name[,name]]`: runs the fault drills (drill/scenarios/*),
// prints the pass/fail table with the figures and writes it to drill/results/<date>.md and .json. Exits 1
// if any drill failed.
import { parseArgs } from 'node:util';
import { resultTable, writeResults } from './lib/report.ts';
import { runScenarios } from './lib/runner.ts';
import { SCENARIOS } from './lib/scenarios.ts';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    scenario: { type: 'string', multiple: true },
    list: { type: 'boolean', default: false },
  },
});

if (values.list) {
  for (const s of SCENARIOS) console.log(`${s.name}: ${s.title}`);
  process.exit(0);
}

const wanted = (values.scenario ?? []).flatMap((s) => s.split(','));
const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = wanted.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => wanted.includes(s.name));
const results = await runScenarios(chosen, { short: values.short });
console.log(resultTable(results));
const path = await writeResults(results, new URL('./results/', import.meta.url));
console.error(`[drill] written to ${path}`);
process.exit(results.every((r) => r.pass) ? 0 : 1);
