// Prisma CLI configuration (Prisma 7 reads the schema path from here; no url in the datasource block).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
