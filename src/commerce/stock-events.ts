// After a stock change has committed in PostgreSQL: drop the cached stock (and, when sales moved, the
// cached products), purge the product lists (the in-stock filter and BEST_SELLING depend on stock and
// sales), then push the new stock to inventoryChanged subscribers on every instance, and a product left
// low to its organization's live activity (low-stock-alerts.ts).
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { Inventory } from '../generated/prisma/client.ts';
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import { inventoryTopic } from './inventory.ts';
import type { LowStockAlerts } from './low-stock-alerts.ts';
import { PRODUCT_LISTS_TAG } from './product-listing.ts';

export interface StockEventDeps {
  cache: EntityCache;
  keys: KeyBuilder;
  bus: EventBus;
  logger: Logger;
  lowStock?: LowStockAlerts;
}

export class StockEvents {
  constructor(private readonly deps: StockEventDeps) {}

  async changed(inventories: readonly Inventory[], options: { salesChanged?: boolean } = {}): Promise<void> {
    if (inventories.length === 0) return;
    const { cache, keys, bus, logger, lowStock } = this.deps;
    const ids = inventories.map((i) => String(i.productId));
    await cache.invalidate([
      ...ids.map((id) => keys.entityKey('Inventory', id)),
      ...(options.salesChanged ? ids.map((id) => keys.entityKey('Product', id)) : []),
    ]);
    await cache.invalidateTags([PRODUCT_LISTS_TAG]);
    for (const inventory of inventories) {
      // The write is committed: a subscriber missing this push (Redis away) must not turn it into an error.
      await bus.publish(inventoryTopic(inventory.productId), inventory).catch((error: unknown) => {
        logger.warn({ err: error, productId: inventory.productId }, 'stock change committed but not pushed');
      });
    }
    await lowStock?.check(inventories);
  }
}
