// Loaders for tenants and users. Organizations are public and cached like any entity. Users carry PII
// (email), so they are NEVER put in the shared cache (docs/ARCHITECTURE.md): their loader batches and
// memoises within one request only.
import DataLoader from 'dataloader';
import { createCachedLoader, type LoaderDeps, type LoaderSpec } from '../cache/loader-factory.ts';
import type { Database } from '../db/prisma.ts';
import { byId } from '../db/rows.ts';
import type { Organization, User } from '../generated/prisma/client.ts';

export function accountSpecs(db: Database, ttlOf: LoaderDeps['ttlOf']) {
  return {
    organization: {
      type: 'Organization',
      ttlSeconds: ttlOf('Organization'),
      idOf: String,
      missing: null,
      fetch: async (ids) => byId(await db.organization.findMany({ where: { id: { in: [...ids] } } }), (o) => o.id),
    } satisfies LoaderSpec<string, Organization>,
  };
}

export type AccountSpecs = ReturnType<typeof accountSpecs>;

export interface AccountLoaders {
  organization: DataLoader<string, Organization | null, string>;
  /** Request-scoped only: never cached across requests. */
  user: DataLoader<string, User | null, string>;
}

export function createAccountLoaders(db: Database, specs: AccountSpecs, deps: LoaderDeps): AccountLoaders {
  return {
    organization: createCachedLoader(specs.organization, deps.runtime, deps.stats),
    user: new DataLoader<string, User | null, string>(async (ids) => {
      deps.stats.loaderFetches += 1;
      const users = byId(await db.user.findMany({ where: { id: { in: [...ids] } } }), (u) => u.id);
      return ids.map((id) => users.get(id) ?? null);
    }),
  };
}
