// The per-request GraphQL context: everything request-scoped lives here (ARCHITECTURE: no hidden
// globals). The composition root (src/server/app.ts, createContext) builds one per HTTP request or
// WebSocket operation, with the loaders from createLoaderFactory below.
import type { LoaderDeps, LoaderRuntime, RequestStats } from '../cache/loader-factory.ts';
import { accountSpecs, createAccountLoaders, type AccountLoaders } from '../accounts/loaders.ts';
import { commerceSpecs, createCommerceLoaders, type CommerceLoaders } from '../commerce/loaders.ts';
import { createListingLoaders, type ListingLoaders } from '../commerce/product-listing.ts';
import { createReferenceLoaders, referenceSpecs, type ReferenceLoaders } from '../reference/loaders.ts';
import { createTicketingLoaders, ticketingSpecs, type TicketingLoaders } from '../ticketing/loaders.ts';
import { createEventListingLoaders, type EventListingLoaders } from '../ticketing/event-listing.ts';
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import type { CachePolicy } from '../cache/cache-policy.ts';
import type { Services } from './services.ts';
import type { Viewer } from '../accounts/viewer.ts';
import type { ResponseRecorder } from '../cache/response-cache/response-recorder.ts';

export type Loaders = CommerceLoaders &
  ListingLoaders &
  TicketingLoaders &
  EventListingLoaders &
  ReferenceLoaders &
  AccountLoaders;

export interface GatewayContext {
  requestId: string;
  logger: Logger;
  stats: RequestStats;
  loaders: Loaders;
  services: Services;
  viewer: Viewer | null;
  /** For the session list; never logged. */
  userAgent: string | undefined;
  /** For per-IP limits (src/server/client-ip.ts); never logged. */
  clientIp: string;
  /** When the answer may be stored by the response cache: what it depends on (response-recorder.ts). */
  responseRecorder?: ResponseRecorder;
}

/**
 * Loader specs are built once; loaders (and their per-request memo) once per request, and only for the
 * domains a request touches: most operations need one or two of the six groups, and building every
 * DataLoader for every request showed up as a tenth of the CPU under load (bench/).
 */
export function createLoaderFactory(
  db: Database,
  runtime: LoaderRuntime,
  policy: CachePolicy,
): (stats: RequestStats) => Loaders {
  const ttlOf = policy.ttlOf;
  const specs = {
    commerce: commerceSpecs(db, ttlOf),
    ticketing: ticketingSpecs(db, ttlOf),
    reference: referenceSpecs(db, ttlOf),
    accounts: accountSpecs(db, ttlOf),
  };
  type Group = (deps: LoaderDeps, loaders: Loaders) => Partial<Loaders>;
  const groups: Group[] = [
    (deps) => createCommerceLoaders(specs.commerce, deps),
    (deps, loaders) => createListingLoaders(db, specs.commerce, loaders, deps),
    (deps) => createTicketingLoaders(specs.ticketing, deps),
    (deps, loaders) => createEventListingLoaders(db, specs.ticketing, loaders, deps),
    (deps) => createReferenceLoaders(specs.reference, deps),
    (deps) => createAccountLoaders(db, specs.accounts, deps),
  ];
  // Which group makes which loader: learned once by building every group with throwaway stats.
  const groupOf = new Map<string, Group>();
  const sampleDeps: LoaderDeps = { runtime, stats: { dbQueries: 0 }, ttlOf };
  const sample = {} as Loaders;
  for (const group of groups) {
    const made = group(sampleDeps, sample);
    Object.assign(sample, made);
    for (const name of Object.keys(made)) groupOf.set(name, group);
  }
  return (stats) => {
    const deps: LoaderDeps = { runtime, stats, ttlOf };
    const built: Partial<Loaders> = {};
    const loaders: Loaders = new Proxy(built as Loaders, {
      get(target, name) {
        if (typeof name !== 'string') return undefined;
        let loader = target[name as keyof Loaders];
        if (loader === undefined) {
          const group = groupOf.get(name);
          if (!group) return undefined;
          Object.assign(target, group(deps, loaders));
          loader = target[name as keyof Loaders];
        }
        return loader;
      },
    });
    return loaders;
  };
}
