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
    /** redis://127.0.0.1:PORT of the run's redis-server. Shared: use key prefixes or a private startRedis(). */
    redisUrl: string;
  }
}
