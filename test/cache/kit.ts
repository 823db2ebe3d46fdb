// What the entity-cache tests (test/cache/*.test.ts) add to test/support/kit.ts: SQL grouping by table,
// metric readers and a Prometheus text parser.
import type { GraphQLResponse, TestGateway } from '../support/gateway.ts';

export type { GraphQLResponse, TestGateway };

// ---------------------------------------------------------------------------------------------- SQL

const TX_CONTROL = /^\s*(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|SAVEPOINT|RELEASE|SET TRANSACTION|DEALLOCATE)\b/i;
const DML_TABLE = /^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:"[^"]+"\.)?"([^"]+)"/i;
const FROM_TABLE = /\bFROM\s+(?:"[^"]+"\.)?"([^"]+)"/i;

export const isTransactionControl = (statement: string): boolean => TX_CONTROL.test(statement);

/** The table a statement reads or writes: the one in its first FROM (or INSERT/UPDATE/DELETE target). */
export function tableOf(statement: string): string {
  if (isTransactionControl(statement)) return '(transaction control)';
  return DML_TABLE.exec(statement)?.[1] ?? FROM_TABLE.exec(statement)?.[1] ?? '(unknown)';
}

/** Statements other than BEGIN/COMMIT & co. */
export const dataStatements = (sql: readonly string[]): string[] => sql.filter((s) => !isTransactionControl(s));

/** How many statements hit each table; transaction control is counted apart, under its own label. */
export function sqlByTable(sql: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const statement of sql) {
    const table = tableOf(statement);
    counts[table] = (counts[table] ?? 0) + 1;
  }
  return counts;
}

/** A parameter list of ten or more, as in a batch's IN list. */
const LONG_PARAMS = /\(\$\d+(?:,\$\d+){8,}\)/g;

/** For assertion messages: every statement, numbered, with its table (long IN lists shortened). */
export function showSql(sql: readonly string[]): string {
  if (sql.length === 0) return '(no SQL)';
  return sql
    .map(
      (s, i) =>
        `#${i + 1} [${tableOf(s)}] ${s.replace(LONG_PARAMS, (m) => `(${m.split(',').length} params)`).slice(0, 400)}`,
    )
    .join('\n');
}

/** Runs `work` and returns the SQL it caused on `gateway` (the gateway's log is cleared first). */
export async function sqlDuring<T>(
  gateway: TestGateway,
  work: () => Promise<T>,
): Promise<{ result: T; sql: string[] }> {
  gateway.sql.length = 0;
  const result = await work();
  return { result, sql: [...gateway.sql] };
}

export function endpoint(gateway: TestGateway, path: '/metrics' | '/readyz' | '/healthz'): string {
  return gateway.url.replace(/\/graphql$/, path);
}

// ------------------------------------------------------------------------------------------- SQL (pg)

import { withPg } from '../support/database.ts';

export { withPg };

// ------------------------------------------------------------------------------------------ Metrics

interface MetricLike {
  get(): Promise<{ values: { value: number; labels: Record<string, string | number | undefined> }[] }>;
}

/** Sum of a prom-client metric's samples whose labels include `labels`. */
export async function metricSum(metric: MetricLike, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition (enough of it for our own /metrics). */
export function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { samples, types };
}
