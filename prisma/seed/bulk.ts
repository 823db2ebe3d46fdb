// Bulk inserts with pg: one `INSERT ... SELECT * FROM unnest($1::t1[], $2::t2[], ...)` per chunk sends a
// whole column per parameter, so ten thousand rows cost a handful of round trips instead of ten thousand.
import type pg from 'pg';

export type SqlValue = string | number | null;

/** Column name (the Prisma field name) -> PostgreSQL element type used in the unnest cast. */
export type ColumnTypes = Readonly<Record<string, string>>;

export type RowOf<C extends ColumnTypes> = { readonly [K in keyof C]: SqlValue };

const DEFAULT_CHUNK_ROWS = 5_000;

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function bulkInsert<C extends ColumnTypes>(
  client: pg.ClientBase,
  table: string,
  columns: C,
  rows: readonly RowOf<C>[],
  chunkRows = DEFAULT_CHUNK_ROWS,
): Promise<number> {
  const names = Object.keys(columns);
  const casts = names.map((name, i) => `$${i + 1}::${columns[name]}[]`).join(', ');
  const sql = `INSERT INTO ${quoteIdent(table)} (${names.map(quoteIdent).join(', ')}) SELECT * FROM unnest(${casts})`;
  for (let start = 0; start < rows.length; start += chunkRows) {
    const chunk = rows.slice(start, start + chunkRows);
    const params = names.map((name) => chunk.map((row) => row[name] ?? null));
    await client.query(sql, params);
  }
  return rows.length;
}

/** After inserting explicit ids, move a serial column's sequence past them so later inserts do not collide. */
export async function resetSerial(client: pg.ClientBase, table: string, column = 'id'): Promise<void> {
  const t = quoteIdent(table);
  const c = quoteIdent(column);
  await client.query(
    `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${c}) FROM ${t}), 0) + 1, false)`,
    [t, column],
  );
}
