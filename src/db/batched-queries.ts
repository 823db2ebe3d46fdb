// One SQL statement for a batch of list pages or counts that differ in their filters: a batch makes at
// most one SQL query (docs/ARCHITECTURE.md, "No N+1"). Each page or count is a branch of a UNION ALL, tagged
// with its position so the rows can be handed back per page, in order.
import { Prisma } from '../generated/prisma/client.ts';
import type { Database } from './prisma.ts';

export interface PageQuery {
  /** The WHERE condition of this page (filter and keyset cursor). */
  where: Prisma.Sql;
  /** The ORDER BY list, e.g. "price" ASC, "id" ASC. */
  orderBy: Prisma.Sql;
  limit: number;
}

/**
 * `table` is a quoted identifier from our own code, never from a client. `columns` (default every one)
 * leaves out columns the client cannot read, such as a generated tsvector.
 */
export async function readPages<Row>(
  db: Database,
  table: string,
  pages: readonly PageQuery[],
  columns?: readonly string[],
): Promise<Row[][]> {
  if (pages.length === 0) return [];
  const from = Prisma.raw(`"${table}"`);
  const selected = Prisma.raw(columns ? columns.map((c) => `t."${c}"`).join(', ') : 't.*');
  const branches = pages.map(
    (
      page,
      index,
    ) => Prisma.sql`(SELECT ${index}::int AS "__page", row_number() OVER (ORDER BY ${page.orderBy}) AS "__row",
       ${selected}
       FROM ${from} t WHERE ${page.where} ORDER BY ${page.orderBy} LIMIT ${page.limit})`,
  );
  const rows = await db.$queryRaw<(Row & { __page: number; __row: bigint })[]>(
    Prisma.sql`SELECT * FROM (${Prisma.join(branches, ' UNION ALL ')}) AS pages ORDER BY "__page", "__row"`,
  );
  const result: Row[][] = pages.map(() => []);
  for (const { __page, __row: _row, ...row } of rows) result[__page]!.push(row as Row);
  return result;
}

export async function countEach(db: Database, table: string, wheres: readonly Prisma.Sql[]): Promise<number[]> {
  if (wheres.length === 0) return [];
  const from = Prisma.raw(`"${table}"`);
  const branches = wheres.map(
    (where, index) => Prisma.sql`SELECT ${index}::int AS "__count", count(*)::int AS n FROM ${from} t WHERE ${where}`,
  );
  const rows = await db.$queryRaw<{ __count: number; n: number }[]>(Prisma.join(branches, ' UNION ALL '));
  const counts = wheres.map(() => 0);
  for (const row of rows) counts[row.__count] = row.n;
  return counts;
}

/** Prisma's `contains` escapes LIKE wildcards; so do we, for the same meaning. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The conditions joined with AND; TRUE when there are none. */
export function allOf(conditions: readonly Prisma.Sql[]): Prisma.Sql {
  return conditions.length ? Prisma.join(conditions, ' AND ') : Prisma.sql`TRUE`;
}
