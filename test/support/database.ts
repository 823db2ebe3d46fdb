// Per-test-file databases: `CREATE DATABASE ... TEMPLATE` copies the migrated and seeded template in
// milliseconds, so a test file that writes gets its own copy instead of sharing state with others.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  name: string;
  url: string;
  /** Drops the database, disconnecting anyone still using it. */
  drop(): Promise<void>;
}

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Runs `use` with a connected client on any database URL, and always disconnects. */
export async function withPg<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export const withAdminClient = withPg;

/** PostgreSQL refuses to copy a template that has open connections: close them first. */
export async function disconnectAll(client: pg.Client, database: string): Promise<void> {
  await client.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
}

const isTemplateBusy = (error: unknown): boolean =>
  error instanceof Error && /is being accessed by other users/.test(error.message);

/** CREATE DATABASE name TEMPLATE template, retrying briefly if a connection to the template sneaks in. */
export async function copyDatabase(client: pg.Client, template: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await disconnectAll(client, template);
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
      return;
    } catch (error) {
      if (!isTemplateBusy(error) || attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withAdminClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** A fresh, uniquely named copy of `template` on the server at `adminUrl`. */
export async function createDatabaseFromTemplate(
  adminUrl: string,
  template: string,
  prefix = 'cg_test',
): Promise<TestDatabase> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => copyDatabase(client, template, name));
  return { name, url: databaseUrl(adminUrl, name), drop: () => dropDatabase(adminUrl, name) };
}
