// Generates and checks the committed SQL migrations against prisma/schema.prisma, offline.
//
//   tsx scripts/migrations.ts new <name>   writes prisma/migrations/<timestamp>_<name>/migration.sql
//   tsx scripts/migrations.ts check        exits 1 when schema.prisma and the migrations have drifted
//
// Both need ADMIN_DATABASE_URL (or DATABASE_URL): a PostgreSQL server where scratch databases may be
// created and dropped. Why this shape: Prisma 7's `migrate diff` needs its native schema engine, which
// cannot be downloaded here. Prisma 6.19 (installed as the `prisma6` alias) ships the schema engine as
// WebAssembly, but in that mode it can only diff schema files, not describe a live database. So:
// - `new` diffs the schema as of the last commit that touched prisma/migrations against today's schema;
// - `check` applies the committed migrations to one scratch database and Prisma's from-empty SQL for today's
//   schema to another, then compares the two catalogs (tables, columns, enums, indexes, keys).
//   CHECK constraints, which Prisma cannot express, are left out of the comparison: they live only in
//   migrations.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { applyMigrations, DEFAULT_MIGRATIONS_DIR } from '../src/db/migrator.ts';

const root = new URL('..', import.meta.url).pathname;
const schemaPath = join(root, 'prisma/schema.prisma');

/** Runs Prisma 6's wasm schema engine on two schema files and returns the SQL that turns `from` into `to`. */
export function diffSchemas(scratchUrl: string, fromSchema: string | null, toSchema: string): string {
  const work = mkdtempSync(join(tmpdir(), 'cg-migrations-'));
  try {
    writeFileSync(join(work, 'to.prisma'), forPrisma6(toSchema));
    if (fromSchema !== null) writeFileSync(join(work, 'from.prisma'), forPrisma6(fromSchema));
    // Adapter mode is what selects the wasm engine; it connects to an (empty, scratch) database even
    // for a file-to-file diff, though it reads nothing from it.
    writeFileSync(
      join(work, 'prisma.config.mjs'),
      `import { PrismaPg } from ${JSON.stringify(join(root, 'node_modules/prisma6-adapter-pg/dist/index.mjs'))};
export default {
  experimental: { adapter: true },
  engine: 'js',
  schema: 'to.prisma',
  async adapter() { return new PrismaPg({ connectionString: ${JSON.stringify(scratchUrl)} }); },
};\n`,
    );
    const from = fromSchema === null ? ['--from-empty'] : ['--from-schema-datamodel', 'from.prisma'];
    const result = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules/prisma6/build/index.js'),
        'migrate',
        'diff',
        '--config',
        'prisma.config.mjs',
        ...from,
        '--to-schema-datamodel',
        'to.prisma',
        '--script',
      ],
      {
        cwd: work,
        encoding: 'utf8',
        env: {
          ...process.env,
          CHECKPOINT_DISABLE: '1',
          PRISMA_HIDE_UPDATE_MESSAGE: '1',
          // Never run in adapter mode, but the CLI insists on finding them before it starts.
          PRISMA_QUERY_ENGINE_LIBRARY: '/bin/true',
          PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
        },
      },
    );
    if (result.status !== 0) throw new Error(`prisma migrate diff failed:\n${result.stderr}\n${result.stdout}`);
    const text = result.stdout
      .split('\n')
      .filter((l) => !l.startsWith('Loaded Prisma config'))
      .join('\n')
      .trim();
    return /^-- This is an empty migration\.?$/.test(text) ? '' : text;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Prisma 6 wants the client engine and a url in the datasource; the models are the same file. */
function forPrisma6(schema: string): string {
  return schema
    .replace(/provider\s*=\s*"prisma-client"/, 'provider = "prisma-client"\n  engineType = "client"')
    .replace(
      /provider\s*=\s*"postgresql"/,
      'provider = "postgresql"\n  url = "postgresql://unused@127.0.0.1:1/unused"',
    );
}

// One row per catalog fact, sorted: two databases with the same rows have the same structure.
const CATALOG_SQL = `
SELECT 'column ' || c.table_name || '.' || c.column_name || ' ' || c.udt_name || ' ' ||
       coalesce(c.character_maximum_length::text, '') || ' ' || coalesce(c.numeric_precision::text, '') || ',' ||
       coalesce(c.numeric_scale::text, '') || ' ' || c.is_nullable || ' ' || coalesce(c.column_default, '') AS fact
  FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name <> '_prisma_migrations'
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'
UNION ALL
SELECT 'constraint ' || rel.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
 WHERE n.nspname = 'public' AND con.contype <> 'c' AND rel.relname <> '_prisma_migrations'
UNION ALL
SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
  FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname
ORDER BY 1`;

async function withScratchDatabase<T>(adminUrl: string, use: (url: string) => Promise<T>): Promise<T> {
  const name = `cg_scratch_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await use(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

async function catalogOf(url: string, sql?: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (sql) await client.query(sql);
    const { rows } = await client.query<{ fact: string }>(CATALOG_SQL);
    return rows.map((r) => r.fact);
  } finally {
    await client.end();
  }
}

/** Lines present in one catalog and not the other: empty when migrations and schema agree. */
export async function findDrift(adminUrl: string): Promise<string[]> {
  const fromMigrations = await withScratchDatabase(adminUrl, async (url) => {
    await applyMigrations(url);
    return catalogOf(url);
  });
  const fromSchema = await withScratchDatabase(adminUrl, (url) =>
    catalogOf(url, diffSchemas(url, null, readFileSync(schemaPath, 'utf8'))),
  );
  const a = new Set(fromMigrations);
  const b = new Set(fromSchema);
  return [
    ...fromMigrations.filter((f) => !b.has(f)).map((f) => `only in migrations: ${f}`),
    ...fromSchema.filter((f) => !a.has(f)).map((f) => `only in schema.prisma: ${f}`),
  ];
}

function schemaAtLastMigration(): string | null {
  const hasMigrations = readdirSync(DEFAULT_MIGRATIONS_DIR, { withFileTypes: true }).some((e) => e.isDirectory());
  if (!hasMigrations) return null;
  const rev = execFileSync('git', ['log', '-1', '--format=%H', '--', 'prisma/migrations'], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  if (!rev)
    throw new Error(
      'commit the existing migrations first: "new" diffs against the schema of the last migration commit',
    );
  return execFileSync('git', ['show', `${rev}:prisma/schema.prisma`], { cwd: root, encoding: 'utf8' });
}

async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
  const adminUrl = process.env.ADMIN_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!adminUrl)
    throw new Error('set ADMIN_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server for scratch databases');
  if (command === 'check') {
    const drift = await findDrift(adminUrl);
    if (drift.length > 0) {
      console.error(
        `schema.prisma and prisma/migrations have drifted; run "npm run migrate:new -- <name>":\n${drift.join('\n')}`,
      );
      process.exit(1);
    }
    console.log('migrations match schema.prisma');
  } else if (command === 'new' && name && /^[a-z0-9_]+$/.test(name)) {
    const from = schemaAtLastMigration();
    const sql = await withScratchDatabase(adminUrl, async (url) =>
      diffSchemas(url, from, readFileSync(schemaPath, 'utf8')),
    );
    if (!sql) {
      console.log('no schema changes since the last migration: nothing to write');
      return;
    }
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const dir = join(DEFAULT_MIGRATIONS_DIR, `${stamp}_${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'migration.sql'), `${sql}\n`);
    console.log(`wrote ${dir}/migration.sql; review it, then apply with "npm run migrate"`);
  } else {
    console.error('usage: tsx scripts/migrations.ts check | new <snake_case_name>');
    process.exit(2);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
