// The one PrismaClient of a gateway process, over node-postgres through Prisma's driver adapter
// (no native query engine: nothing to download on these machines).
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';

export type { PrismaClient };

/** application_name of the gateway's own connections, as PostgreSQL's triggers see it. */
export const GATEWAY_APPLICATION_NAME = 'cachegate';
export type Database = PrismaClient<'query'>;

export interface DatabaseOptions {
  url: string;
  poolSize: number;
  /** Called for every SQL statement Prisma sends: metrics and the SQL-counting tests use it. */
  onQuery?: (sql: string, durationMs: number) => void;
}

export function createDatabase(options: DatabaseOptions): Database {
  const adapter = new PrismaPg({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: 5_000,
    // The change feed (change-feed.ts) skips rows the gateway wrote itself: its writes invalidate already.
    application_name: GATEWAY_APPLICATION_NAME,
  });
  const client = new PrismaClient({ adapter, log: [{ emit: 'event', level: 'query' }] });
  if (options.onQuery) {
    const onQuery = options.onQuery;
    client.$on('query', (event) => onQuery(event.query, event.duration));
  }
  return client;
}
