// The drill's pass/fail table: Markdown for people (printed, and drill/results/<date>.md), JSON beside it.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { Check } from './scenario.ts';

export interface ScenarioResult {
  name: string;
  title: string;
  form: 'full' | 'short';
  seconds: number;
  pass: boolean;
  checks: Check[];
  /** Set when the scenario itself broke (a server did not start, say): it counts as failed. */
  error?: string;
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function resultTable(results: readonly ScenarioResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`### ${r.pass ? 'PASS' : 'FAIL'} ${r.name} (${r.form}, ${r.seconds.toFixed(1)} s)`, '', r.title, '');
    if (r.error) lines.push(`Error: ${cell(r.error)}`, '');
    lines.push('| check | value | bound | result |', '|---|---|---|---|');
    for (const c of r.checks) {
      lines.push(`| ${cell(c.name)} | ${cell(c.value)} | ${cell(c.bound)} | ${c.pass ? 'pass' : '**FAIL**'} |`);
    }
    lines.push('');
  }
  const failed = results.filter((r) => !r.pass).map((r) => r.name);
  lines.push(failed.length === 0 ? `All ${results.length} drills passed.` : `Failed: ${failed.join(', ')}.`);
  return lines.join('\n');
}

export async function writeResults(results: readonly ScenarioResult[], dir: URL): Promise<string> {
  const started = new Date();
  const date = started.toISOString().slice(0, 10);
  await mkdir(dir, { recursive: true });
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`;
  const header = [
    `# Fault drills, ${date}`,
    '',
    `\`npm run drill\` at ${started.toISOString()} on ${machine}. Real PostgreSQL and redis-server on 127.0.0.1, ` +
      'gateways as child processes (`src/main.ts`, NODE_ENV=production).',
    '',
    '',
  ];
  const path = new URL(`${date}.md`, dir);
  await writeFile(path, `${header.join('\n')}${resultTable(results)}\n`);
  await writeFile(new URL(`${date}.json`, dir), `${JSON.stringify({ date, machine, results }, null, 2)}\n`);
  return path.pathname;
}
