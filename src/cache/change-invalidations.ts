// What a changed row means for the caches: the same entity keys and list tags the gateway's own
// writes invalidate (product-service.ts, venue-event-service.ts), for rows changed behind its back
// (src/db/change-feed.ts). Stock changes are also pushed to inventoryChanged subscribers.
import type { RowChange } from '../db/change-feed.ts';
import type { EntityCache } from './entity-cache.ts';
import type { KeyBuilder } from './keys.ts';

const MEMBER_TIERS = ['SILVER', 'GOLD', 'PLATINUM'] as const;

/** The cache keys and tags one row's keys stand for, by table. */
const BY_TABLE: Record<string, (row: Record<string, string>, keys: KeyBuilder) => { keys: string[]; tags: string[] }> =
  {
    Product: (row, keys) => ({
      keys: row.id
        ? [
            keys.entityKey('Product', row.id),
            keys.entityKey('Inventory', row.id),
            ...MEMBER_TIERS.map((tier) => keys.entityKey('MemberPrice', `${row.id}.${tier}`)),
          ]
        : [],
      tags: ['Product'],
    }),
    MemberPrice: (row, keys) => ({
      keys: row.productId && row.tier ? [keys.entityKey('MemberPrice', `${row.productId}.${row.tier}`)] : [],
      tags: [],
    }),
    Inventory: (row, keys) => ({ keys: row.productId ? [keys.entityKey('Inventory', row.productId)] : [], tags: [] }),
    Category: (row, keys) => ({
      keys: [...(row.id ? [keys.entityKey('Category', row.id)] : []), keys.entityKey('CategoryTree', 'all')],
      tags: ['Product'],
    }),
    Event: (row, keys) => ({
      keys: [
        ...(row.id ? [keys.entityKey('Event', row.id)] : []),
        ...(row.venueId ? [keys.entityKey('Venue.events', row.venueId)] : []),
      ],
      tags: ['Event'],
    }),
    Venue: (row, keys) => ({
      keys: [
        ...(row.id ? [keys.entityKey('Venue', row.id)] : []),
        ...(row.organizationId ? [keys.entityKey('Organization.venues', row.organizationId)] : []),
      ],
      tags: [],
    }),
    Seat: (row, keys) => ({ keys: row.eventId ? [keys.entityKey('Event.seats', row.eventId)] : [], tags: [] }),
  };

export interface ChangeInvalidationDeps {
  cache: EntityCache;
  keys: KeyBuilder;
  /** Pushes the current stock of the products to inventoryChanged subscribers. */
  publishStock(productIds: number[]): Promise<void>;
}

/** Invalidates what the changed rows touched, in one call for all their keys and one for their tags. */
export async function invalidateChanges(changes: readonly RowChange[], deps: ChangeInvalidationDeps): Promise<void> {
  const keys = new Set<string>();
  const tags = new Set<string>();
  const stock = new Set<number>();
  for (const change of changes) {
    const describe = BY_TABLE[change.table];
    if (!describe) continue;
    for (const row of [change.new, change.old]) {
      if (!row) continue;
      const touched = describe(row, deps.keys);
      for (const key of touched.keys) keys.add(key);
      for (const tag of touched.tags) tags.add(tag);
    }
    if (change.table === 'Inventory' && change.new?.productId) stock.add(Number(change.new.productId));
  }
  await deps.cache.invalidate([...keys]);
  await deps.cache.invalidateTags([...tags]);
  if (stock.size) await deps.publishStock([...stock]);
}
