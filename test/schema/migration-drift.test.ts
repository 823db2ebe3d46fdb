// schema.prisma and the committed SQL migrations must describe the same database (see scripts/migrations.ts).
import { expect, inject, test } from 'vitest';
import { findDrift } from '../../scripts/migrations.ts';

test('committed migrations match prisma/schema.prisma', async () => {
  expect(await findDrift(inject('adminDatabaseUrl'))).toEqual([]);
}, 120_000); // runs Prisma 6's wasm schema engine in a child process
