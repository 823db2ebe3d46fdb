// The bench's private PostgreSQL and redis-server (the test helpers: free ports, temp dirs), one
// database migrated and seeded once, and what the scenarios pick from it.
import pg from 'pg';
import { applyMigrations } from '../../src/db/migrator.ts';
import { seedDatabase, type SeedScale } from '../../prisma/seed.ts';
import { withAdminClient } from '../../test/support/database.ts';
import { startPostgres, type PostgresServer } from '../../test/support/postgres-server.ts';
import { startRedis, type RedisServer } from '../../test/support/redis-server.ts';

export const DATABASE = 'cachegate_bench';

export interface Infra {
  pg: PostgresServer;
  redis: RedisServer;
  databaseUrl: string;
  seed: { products: number; ms: number; migrations: number };
}

/** Starts both servers; if either fails to start, the other is destroyed before the error is thrown. */
export async function startInfra(
  scale: SeedScale,
  register: (destroy: () => Promise<void>, killNow: () => void) => void,
): Promise<Infra> {
  const [pgResult, redisResult] = await Promise.allSettled([startPostgres(), startRedis()]);
  for (const result of [pgResult, redisResult]) {
    if (result.status === 'fulfilled')
      register(
        () => result.value.destroy(),
        () => result.value.killNow(),
      );
  }
  if (pgResult.status === 'rejected') throw pgResult.reason;
  if (redisResult.status === 'rejected') throw redisResult.reason;
  const pgServer = pgResult.value;
  await withAdminClient(pgServer.adminUrl, (c) => c.query(`CREATE DATABASE ${DATABASE}`));
  const databaseUrl = pgServer.urlFor(DATABASE);
  const { applied } = await applyMigrations(databaseUrl);
  const summary = await seedDatabase({ databaseUrl, scale });
  // Fresh statistics for the planner after a bulk load, as a deploy would have by the time traffic arrives.
  await withAdminClient(databaseUrl, (c) => c.query('VACUUM ANALYZE'));
  return {
    pg: pgServer,
    redis: redisResult.value,
    databaseUrl,
    seed: { products: summary.products, ms: summary.ms, migrations: applied.length },
  };
}

/** startInfra and a connected client of its database; everything is registered to be stopped. */
export async function startInfraWithClient(
  scale: SeedScale,
  cleanups: { push(run: () => Promise<void>): unknown },
  killers: (() => void)[],
): Promise<{ infra: Infra; sql: pg.Client }> {
  const infra = await startInfra(scale, (destroy, killNow) => {
    cleanups.push(destroy);
    killers.push(killNow);
  });
  const sql = new pg.Client({ connectionString: infra.databaseUrl });
  await sql.connect();
  cleanups.push(() => sql.end());
  return { infra, sql };
}

export interface Picks {
  /** Product ids spread evenly over the catalog: the warm working set of the product-page scenario. */
  hotIds: number[];
  /** Other product ids, never touched before scenario c reads them. */
  coldIds: number[];
  /** Categories for the listing scenario: two roots (subtree listings) and the two busiest leaves. */
  categoryIds: number[];
  /** Up to `wide` product ids spread evenly over the catalog: the product page over many ids. */
  wideIds: number[];
}

export async function pick(client: pg.Client, hot: number, cold: number, wide = hot): Promise<Picks> {
  const ids = (await client.query<{ id: number }>('SELECT id FROM "Product" ORDER BY id')).rows.map((r) => r.id);
  if (ids.length < (hot + cold) * 2)
    throw new Error(`the seed has ${ids.length} products: too few for ${hot} hot and ${cold} cold ids`);
  const step = Math.floor(ids.length / hot);
  const hotIds = Array.from({ length: hot }, (_, i) => ids[i * step]!);
  const hotSet = new Set(hotIds);
  const others = ids.filter((id) => !hotSet.has(id));
  const coldStep = Math.floor(others.length / cold);
  const coldIds = Array.from({ length: cold }, (_, i) => others[i * coldStep + Math.floor(coldStep / 2)]!);
  const roots = await client.query<{ id: number }>(`
    SELECT c.id FROM "Category" c WHERE c."parentId" IS NULL
      AND EXISTS (SELECT 1 FROM "Category" s WHERE s."parentId" = c.id) ORDER BY c.id LIMIT 2`);
  const leaves = await client.query<{ id: number }>(`
    SELECT p."categoryId" AS id FROM "Product" p
    WHERE NOT EXISTS (SELECT 1 FROM "Category" s WHERE s."parentId" = p."categoryId")
    GROUP BY p."categoryId" ORDER BY count(*) DESC, p."categoryId" LIMIT 2`);
  const categoryIds = [...new Set([...roots.rows, ...leaves.rows].map((r) => r.id))];
  const wideStep = ids.length / Math.min(wide, ids.length);
  const wideIds = Array.from({ length: Math.min(wide, ids.length) }, (_, i) => ids[Math.floor(i * wideStep)]!);
  return { hotIds, coldIds, categoryIds, wideIds };
}
