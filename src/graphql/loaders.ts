// Every domain's loaders, composed into the one Loaders object of a request. Loader specs are built
// once per gateway; the loaders themselves once per request, and only for the domains it touches.
import type { LoaderDeps, LoaderRuntime, RequestStats } from '../cache/loader-factory.ts';
import type { TtlPolicy } from '../cache/ttl-policy.ts';
import { accountSpecs, createAccountLoaders, type AccountLoaders } from '../accounts/loaders.ts';
import { commerceSpecs, createCommerceLoaders, type CommerceLoaders } from '../commerce/loaders.ts';
import { createListingLoaders, type ListingLoaders } from '../commerce/product-listing.ts';
import type { Database } from '../db/prisma.ts';
import { createReferenceLoaders, referenceSpecs, type ReferenceLoaders } from '../reference/loaders.ts';
import { createEventListingLoaders, type EventListingLoaders } from '../ticketing/event-listing.ts';
import { createTicketingLoaders, ticketingSpecs, type TicketingLoaders } from '../ticketing/loaders.ts';
import { createBookingLoaders, type BookingLoaders } from '../ticketing/booking-loaders.ts';

export type Loaders = CommerceLoaders &
  ListingLoaders &
  TicketingLoaders &
  EventListingLoaders &
  BookingLoaders &
  ReferenceLoaders &
  AccountLoaders;

/**
 * Loader specs are built once; loaders (and their per-request memo) once per request, and only for the
 * domains a request touches: most operations need one or two of the six groups, and building every
 * DataLoader for every request showed up as a tenth of the CPU under load (bench/).
 */
export function createLoaderFactory(
  db: Database,
  runtime: LoaderRuntime,
  policy: TtlPolicy,
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
    (deps) => createBookingLoaders(db, deps),
    (deps) => createReferenceLoaders(specs.reference, deps),
    (deps) => createAccountLoaders(db, specs.accounts, deps),
  ];
  // Which group makes which loader: learned once by building every group with throwaway stats.
  const groupOf = new Map<string, Group>();
  const sampleDeps: LoaderDeps = { runtime, stats: { loaderFetches: 0 }, ttlOf };
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
