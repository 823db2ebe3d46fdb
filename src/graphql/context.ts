// The per-request GraphQL context: everything request-scoped lives here (ARCHITECTURE: no hidden
// globals). Built by createContextFactory in the composition root's wiring, once per HTTP request or
// WebSocket operation.
import type { LoaderDeps, LoaderRuntime, RequestStats } from '../cache/loader-factory.ts';
import { accountSpecs, createAccountLoaders, type AccountLoaders } from '../accounts/loaders.ts';
import { commerceSpecs, createCommerceLoaders, type CommerceLoaders } from '../commerce/loaders.ts';
import { createListingLoaders, type ListingLoaders } from '../commerce/product-listing.ts';
import { createReferenceLoaders, referenceSpecs, type ReferenceLoaders } from '../reference/loaders.ts';
import { createTicketingLoaders, ticketingSpecs, type TicketingLoaders } from '../ticketing/loaders.ts';
import { createEventListingLoaders, type EventListingLoaders } from '../ticketing/event-listing.ts';
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../server/logger.ts';
import type { CachePolicy } from '../cache/cache-policy.ts';
import type { Services } from './services.ts';

export type Loaders = CommerceLoaders & ListingLoaders & TicketingLoaders & EventListingLoaders & ReferenceLoaders & AccountLoaders;

/** The signed-in user, when there is one (src/accounts/sessions.ts). */
export interface Viewer {
  sessionId: string;
  userId: string;
  role: 'CUSTOMER' | 'ORG_ADMIN' | 'PLATFORM_ADMIN';
  organizationId: string | null;
}

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
}

/** Loader specs are built once; loaders (and their per-request memo) once per request. */
export function createLoaderFactory(db: Database, runtime: LoaderRuntime, policy: CachePolicy): (stats: RequestStats) => Loaders {
  const ttlOf = policy.ttlOf;
  const specs = {
    commerce: commerceSpecs(db, ttlOf),
    ticketing: ticketingSpecs(db, ttlOf),
    reference: referenceSpecs(db, ttlOf),
    accounts: accountSpecs(db, ttlOf),
  };
  return (stats) => {
    const deps: LoaderDeps = { runtime, stats, ttlOf };
    const commerce = createCommerceLoaders(specs.commerce, deps);
    const ticketing = createTicketingLoaders(specs.ticketing, deps);
    return {
      ...commerce,
      ...createListingLoaders(db, specs.commerce, commerce, deps),
      ...ticketing,
      ...createEventListingLoaders(db, specs.ticketing, ticketing, deps),
      ...createReferenceLoaders(specs.reference, deps),
      ...createAccountLoaders(db, specs.accounts, deps),
    };
  };
}
