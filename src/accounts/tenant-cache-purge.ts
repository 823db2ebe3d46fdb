// Purging one organization's share of the cache, on every instance: the entries of its own rows (its
// events and venues, or its products and their stock and prices) are deleted, and its tenant-scoped lists
// move to a new generation of the tenant's own tag (tag-generations.ts, tenantTag). Other organizations'
// entries and lists are left in place.
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import { tenantTag } from '../cache/tag-generations.ts';
import type { Database } from '../db/prisma.ts';

export const PURGEABLE_TAGS = ['Product', 'Event'] as const;
export type PurgeableTag = (typeof PURGEABLE_TAGS)[number];

const MEMBER_TIERS = ['REGULAR', 'SILVER', 'GOLD', 'PLATINUM'] as const;

export class TenantCachePurge {
  constructor(private readonly deps: { db: Database; cache: EntityCache; keys: KeyBuilder }) {}

  /** Returns how many entity keys were dropped. */
  async purge(organizationId: string, tags: readonly PurgeableTag[]): Promise<number> {
    const { db, keys } = this.deps;
    const key = (type: string, id: string | number) => keys.entityKey(type, String(id));
    const dropped: string[] = [];
    if (tags.includes('Event')) {
      const [events, venues] = await Promise.all([
        db.event.findMany({ where: { organizationId }, select: { id: true } }),
        db.venue.findMany({ where: { organizationId }, select: { id: true } }),
      ]);
      dropped.push(key('Organization.venues', organizationId));
      for (const { id } of events) dropped.push(key('Event', id));
      for (const { id } of venues) dropped.push(key('Venue', id), key('Venue.events', id));
    }
    if (tags.includes('Product')) {
      const products = await db.product.findMany({ where: { organizationId }, select: { id: true } });
      for (const { id } of products)
        dropped.push(
          key('Product', id),
          key('Inventory', id),
          ...MEMBER_TIERS.map((t) => key('MemberPrice', `${id}.${t}`)),
        );
    }
    if (dropped.length) await this.deps.cache.invalidate(dropped);
    await this.deps.cache.invalidateTags(tags.map((tag) => tenantTag(tag, organizationId)));
    return dropped.length;
  }
}
