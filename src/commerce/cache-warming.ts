// Cache warming: loads into Redis and this instance's L1 what the first visitors ask for, so neither a
// fresh start nor a Redis flush begins cold: every state, postcode and state's cities, the category
// tree, the first pages of best-selling and newest products (with their stock, and counts), and the
// first page of events. It goes through the same loaders as requests, so it fills the same keys.
import type { RequestStats } from '../cache/loader-factory.ts';
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import type { ReferenceLoaders } from '../reference/loaders.ts';
import type { TicketingLoaders } from '../ticketing/loaders.ts';
import { countEvents, listEvents, type EventListingLoaders } from '../ticketing/event-listing.ts';
import type { CommerceLoaders } from './loaders.ts';
import { countProducts, listProducts, type ListingLoaders, type ProductSort } from './product-listing.ts';

export interface WarmingReport {
  trigger: 'start-up' | 'request';
  startedAt: Date;
  ms: number;
  states: number;
  postcodes: number;
  categories: number;
  products: number;
  events: number;
}

export type WarmLoaders = CommerceLoaders & ListingLoaders & ReferenceLoaders & EventListingLoaders & TicketingLoaders;

/** The listings a storefront's first page shows, at the default page size. */
const TOP_PRODUCT_SORTS: readonly ProductSort[] = ['BEST_SELLING', 'NEWEST'];
const TOP_PAGE_SIZE = 20;
const POSTCODE_SLICE = 250;

export class CacheWarmer {
  private lastReport: WarmingReport | undefined;

  constructor(
    private readonly deps: { db: Database; createLoaders: (stats: RequestStats) => WarmLoaders; logger: Logger },
  ) {}

  get last(): WarmingReport | undefined {
    return this.lastReport;
  }

  async warm(trigger: WarmingReport['trigger']): Promise<WarmingReport> {
    const startedAt = new Date();
    const started = performance.now();
    const loaders = this.deps.createLoaders({ loaderFetches: 0 });
    const [reference, categories, products, events] = await Promise.all([
      this.warmReference(loaders),
      this.warmCategories(loaders),
      this.warmProducts(loaders),
      this.warmEvents(loaders),
    ]);
    const report: WarmingReport = {
      trigger,
      startedAt,
      ms: Math.round(performance.now() - started),
      ...reference,
      categories,
      products,
      events,
    };
    this.lastReport = report;
    this.deps.logger.info({ warmed: report }, 'cache warmed');
    return report;
  }

  private async warmReference(loaders: WarmLoaders): Promise<{ states: number; postcodes: number }> {
    const [states, codes] = await Promise.all([
      loaders.states.load('all'),
      this.deps.db.postcode.findMany({ distinct: ['code'], select: { code: true }, orderBy: { code: 'asc' } }),
      loaders.shippingZones.load('all'),
    ]);
    const stateIds = (states ?? []).map((s) => s.id);
    await Promise.all([loaders.state.loadMany(stateIds), loaders.citiesOfState.loadMany(stateIds)]);
    // In slices, one after the other: each slice is one SQL query and one Redis pipeline small enough
    // to finish well inside the Redis command timeout on a busy machine.
    for (let start = 0; start < codes.length; start += POSTCODE_SLICE)
      await loaders.postcode.loadMany(codes.slice(start, start + POSTCODE_SLICE).map((c) => c.code));
    return { states: stateIds.length, postcodes: codes.length };
  }

  private async warmCategories(loaders: WarmLoaders): Promise<number> {
    const tree = (await loaders.categoryTree.load('all')) ?? [];
    await loaders.category.loadMany(tree.map((c) => c.id));
    return tree.length;
  }

  private async warmProducts(loaders: WarmLoaders): Promise<number> {
    const ids = new Set<number>();
    await Promise.all(
      TOP_PRODUCT_SORTS.map(async (sort) => {
        const page = await listProducts(loaders, { sort, first: TOP_PAGE_SIZE });
        await countProducts(loaders, page);
        for (const id of page.ids) ids.add(id);
      }),
    );
    await loaders.inventory.loadMany([...ids]);
    return ids.size;
  }

  private async warmEvents(loaders: WarmLoaders): Promise<number> {
    const page = await listEvents(loaders, { first: TOP_PAGE_SIZE }, null);
    await countEvents(loaders, page);
    await loaders.event.loadMany(page.ids);
    return page.ids.length;
  }
}
