// Values test/global-setup.ts provides to every test file via `inject(...)`.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL server (database `postgres`): create/drop databases here. */
    adminDatabaseUrl: string;
    /** Migrated (and, once prisma/seed.ts exists, seeded with scale 'small') template database name. */
    templateDatabase: string;
    /** A copy of the template shared by all test files: read only. Use createDatabaseFromTemplate to write. */
    databaseUrl: string;
    /**
     * The run's Redis address: redis://127.0.0.1:PORT of its redis-server, or the redis-cluster:// address of
     * its local cluster in the `cluster` project or with REDIS_TOPOLOGY=cluster. Shared: use key prefixes or a
     * private startRedis().
     */
    redisUrl: string;
  }
}
