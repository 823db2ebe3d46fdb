// After a stock change has committed in PostgreSQL: drop the cached stock (and, when sales moved, the
// cached products), purge the product lists (the in-stock filter and BEST_SELLING depend on stock and
// sales), then push the new stock to inventoryChanged subscribers on every instance, and a product left
// low to its organization's live activity (low-stock-alerts.ts). A push that could not be sent (Redis away)
// is not lost: the product is remembered and its current stock pushed when the Redis circuit closes again,
// and again 1 s and 5 s later for instances whose subscriber connection came back after this one's.
import type { EntityCache } from '../cache/entity-cache.ts';
import type { Database } from '../db/prisma.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { Inventory } from '../generated/prisma/client.ts';
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { inventoryTopic } from './inventory.ts';
import type { LowStockAlerts } from './low-stock-alerts.ts';
import { PRODUCT_LISTS_TAG } from './product-listing.ts';

export interface StockEventDeps {
  cache: EntityCache;
  keys: KeyBuilder;
  bus: EventBus;
  logger: Logger;
  lowStock?: LowStockAlerts;
  /** With both: pushes missed while Redis was away are sent again, with the stock as it is then. */
  db?: Database;
  redis?: RedisCircuit;
}

/** After the first catch-up, when the missed pushes go out again: other instances reconnect on their own time. */
const LATER_CATCH_UPS_MS = [1_000, 5_000];

export class StockEvents {
  /** Products whose last push failed: pushed again when the Redis circuit closes. */
  private readonly missed = new Set<number>();

  constructor(private readonly deps: StockEventDeps) {
    deps.redis?.on('recovered', () => {
      if (this.missed.size === 0) return;
      const ids = [...this.missed];
      this.missed.clear();
      void this.catchUp(ids);
      for (const ms of LATER_CATCH_UPS_MS) setTimeout(() => void this.catchUp(ids), ms).unref();
    });
  }

  async changed(inventories: readonly Inventory[], options: { salesChanged?: boolean } = {}): Promise<void> {
    if (inventories.length === 0) return;
    const { cache, keys, lowStock } = this.deps;
    const ids = inventories.map((i) => String(i.productId));
    await cache.invalidate([
      ...ids.map((id) => keys.entityKey('Inventory', id)),
      ...(options.salesChanged ? ids.map((id) => keys.entityKey('Product', id)) : []),
    ]);
    await cache.invalidateTags([PRODUCT_LISTS_TAG]);
    // The write is committed: a subscriber missing this push (Redis away) must not turn it into an error.
    await this.push(inventories);
    await lowStock?.check(inventories);
  }

  private async push(inventories: readonly Inventory[]): Promise<void> {
    for (const inventory of inventories) {
      await this.deps.bus.publish(inventoryTopic(inventory.productId), inventory).catch((error: unknown) => {
        if (this.deps.db && this.deps.redis) this.missed.add(inventory.productId);
        this.deps.logger.warn({ err: error, productId: inventory.productId }, 'stock change committed but not pushed');
      });
    }
  }

  /** Pushes the products' stock as PostgreSQL has it now; a failure leaves them for the next close. */
  private async catchUp(productIds: number[]): Promise<void> {
    const { db } = this.deps;
    if (!db) return;
    try {
      await this.push(await db.inventory.findMany({ where: { productId: { in: productIds } } }));
    } catch (error) {
      for (const id of productIds) this.missed.add(id);
      this.deps.logger.warn({ err: error }, 'missed stock pushes not caught up; retried when redis is back');
    }
  }
}
