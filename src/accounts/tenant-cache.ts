// One organization's share of the cache: the entries of its own rows (its events and venues, its
// products with their stock and prices) and its tenant-scoped lists (keys with t=<organization>).
// - purge: on every instance, the entries are deleted and the lists move to a new generation of the
//   tenant's own tag (tag-generations.ts, tenantTag). Other organizations' entries and lists stay.
// - stats: how many of those entries Redis holds now and the hit rate of its lists (tenant-lookups.ts),
//   for the whole cluster (null without Redis).
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import { tenantTag } from '../cache/tag-generations.ts';
import type { Database } from '../db/prisma.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import type { Redis } from '../redis/connection.ts';
import { countExisting, scanAll } from '../redis/slots.ts';
import type { TenantHitRate, TenantLookups } from './tenant-lookups.ts';

export const PURGEABLE_TAGS = ['Product', 'Event'] as const;
export type PurgeableTag = (typeof PURGEABLE_TAGS)[number];

const MEMBER_TIERS = ['REGULAR', 'SILVER', 'GOLD', 'PLATINUM'] as const;

export interface TenantCacheStats extends TenantHitRate {
  /** Entries of the organization's own rows in Redis. */
  entries: number;
  /** Its tenant-scoped lists and counts in Redis (older generations included, until their TTL). */
  listEntries: number;
}

export class TenantCache {
  constructor(
    private readonly deps: {
      db: Database;
      cache: EntityCache;
      keys: KeyBuilder;
      redis: RedisCircuit | undefined;
      prefix: string;
      lookups: TenantLookups;
    },
  ) {}

  /** Returns how many entity keys were dropped. */
  async purge(organizationId: string, tags: readonly PurgeableTag[]): Promise<number> {
    const dropped = await this.entityKeysOf(organizationId, tags);
    if (dropped.length) await this.deps.cache.invalidate(dropped);
    await this.deps.cache.invalidateTags(tags.map((tag) => tenantTag(tag, organizationId)));
    return dropped.length;
  }

  /** What Redis holds of the organization now; null without Redis or while it cannot be reached. */
  async stats(organizationId: string): Promise<TenantCacheStats | null> {
    const redis = this.deps.redis;
    if (!redis) return null;
    const entityKeys = await this.entityKeysOf(organizationId, PURGEABLE_TAGS);
    const count = async (r: Redis): Promise<TenantCacheStats> => {
      let entries = 0;
      for (let i = 0; i < entityKeys.length; i += 1_000)
        entries += await countExisting(r, entityKeys.slice(i, i + 1_000));
      let listEntries = 0;
      await scanAll(r, `${this.deps.prefix}:*:t=${organizationId}:*`, (found) => void (listEntries += found.length));
      return { entries, listEntries, ...(await this.deps.lookups.read(r, organizationId)) };
    };
    return redis.attempt(count, 'tenant-stats', () => null);
  }

  private async entityKeysOf(organizationId: string, tags: readonly PurgeableTag[]): Promise<string[]> {
    const { db, keys } = this.deps;
    const key = (type: string, id: string | number) => keys.entityKey(type, String(id));
    const found: string[] = [];
    if (tags.includes('Event')) {
      const [events, venues] = await Promise.all([
        db.event.findMany({ where: { organizationId }, select: { id: true } }),
        db.venue.findMany({ where: { organizationId }, select: { id: true } }),
      ]);
      found.push(key('Organization.venues', organizationId));
      for (const { id } of events) found.push(key('Event', id));
      for (const { id } of venues) found.push(key('Venue', id), key('Venue.events', id));
    }
    if (tags.includes('Product')) {
      const products = await db.product.findMany({ where: { organizationId }, select: { id: true } });
      for (const { id } of products)
        found.push(
          key('Product', id),
          key('Inventory', id),
          ...MEMBER_TIERS.map((t) => key('MemberPrice', `${id}.${t}`)),
        );
    }
    return found;
  }
}
