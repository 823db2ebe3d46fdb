// After a stock change has committed in PostgreSQL: drop the cached stock (and, when sales moved, the
// cached products), purge the product lists (the in-stock filter and BEST_SELLING depend on stock and
// sales), then push the new stock to inventoryChanged subscribers on every instance, and a product left
// low to its organization's live activity (low-stock-alerts.ts). A push that could not be sent (Redis away)
// is not lost: the product is remembered and its current stock pushed when Redis can be used again. An
// instance whose own subscriber connection comes back (it heard nothing meanwhile, and a push that reached
// Redis then reached none of its subscribers) asks on the bus, and every instance pushes again the current
// stock of the products it pushed in the last minute.
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

/** Where an instance whose bus subscriber connection came back asks for missed stock pushes again. */
export const STOCK_CATCH_UP_TOPIC = 'stock-catch-up';
/** How long a pushed product is pushed again when an instance asks. */
const PUSHED_KEPT_MS = 60_000;
/** Resubscriptions closer together than this make one request to push again. */
const ASK_SETTLE_MS = 200;
/** At most this many recently pushed products are remembered (the oldest go first). */
const PUSHED_KEPT_MAX = 10_000;

export class StockEvents {
  /** Products whose last push failed: pushed again when the Redis circuit closes. */
  private readonly missed = new Set<number>();
  /** Products pushed (or caught up) lately, and when: pushed again when an instance's subscriber comes back. */
  private readonly pushed = new Map<number, number>();
  /** This instance's subscriber came back while Redis could not take the request: ask once it can. */
  private askWhenRecovered = false;
  private askTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: StockEventDeps) {
    deps.redis?.on('recovered', () => {
      if (this.askWhenRecovered) void this.ask();
      if (this.missed.size === 0) return;
      const ids = [...this.missed];
      this.missed.clear();
      void this.catchUp(ids);
    });
    if (deps.db && deps.redis)
      deps.bus
        .subscribe(STOCK_CATCH_UP_TOPIC, () => void this.catchUpAgain())
        .catch((error: unknown) => {
          deps.logger.warn({ err: error }, 'stock catch-up requests not heard: pushes after an outage go out once');
        });
  }

  /**
   * This instance's bus subscriber connection is back after a loss: whatever was pushed while it was away
   * never reached its subscribers, so it asks every instance to push what it pushed lately again.
   */
  resubscribed(): void {
    // A failover replaces a shard's subscriber many times over (each attempt on the dead node fails):
    // one request once they have settled, not one per attempt, each making every instance push again.
    clearTimeout(this.askTimer);
    this.askTimer = setTimeout(() => {
      if (this.deps.redis?.state === 'open') this.askWhenRecovered = true;
      else void this.ask();
    }, ASK_SETTLE_MS);
    this.askTimer.unref();
  }

  private async ask(): Promise<void> {
    this.askWhenRecovered = false;
    await this.deps.bus.publish(STOCK_CATCH_UP_TOPIC, {}).catch(() => {
      this.askWhenRecovered = true;
    });
  }

  private catchUpAgain(): void {
    const since = Date.now() - PUSHED_KEPT_MS;
    for (const [id, at] of this.pushed) if (at < since) this.pushed.delete(id);
    if (this.pushed.size > 0) void this.catchUp([...this.pushed.keys()]);
  }

  private remember(productId: number): void {
    this.pushed.delete(productId); // re-inserted last: the map stays in push order
    this.pushed.set(productId, Date.now());
    if (this.pushed.size > PUSHED_KEPT_MAX) this.pushed.delete(this.pushed.keys().next().value!);
  }

  async changed(inventories: readonly Inventory[], options: { salesChanged?: boolean } = {}): Promise<void> {
    if (inventories.length === 0) return;
    const { cache, keys, lowStock } = this.deps;
    const ids = inventories.map((i) => String(i.productId));
    // Together: each waits for the other instances' acknowledgements, and an instance slow to give them
    // (bounded at 2 s) would otherwise hold the push back twice over.
    await Promise.all([
      cache.invalidate([
        ...ids.map((id) => keys.entityKey('Inventory', id)),
        ...(options.salesChanged ? ids.map((id) => keys.entityKey('Product', id)) : []),
      ]),
      cache.invalidateTags([PRODUCT_LISTS_TAG]),
    ]);
    // The write is committed: a subscriber missing this push (Redis away) must not turn it into an error.
    await this.push(inventories);
    await lowStock?.check(inventories);
  }

  private async push(inventories: readonly Inventory[]): Promise<void> {
    for (const inventory of inventories) {
      if (this.deps.db && this.deps.redis) this.remember(inventory.productId);
      await this.deps.bus.publish(inventoryTopic(inventory.productId), inventory).catch((error: unknown) => {
        if (this.deps.db && this.deps.redis) this.missed.add(inventory.productId);
        this.deps.logger.warn({ err: error, productId: inventory.productId }, 'stock change committed but not pushed');
      });
    }
  }

  /**
   * Pushes the products' stock as PostgreSQL has it now; a failure leaves them for the next close. The
   * cached stock goes first, everywhere, as before any push: a subscriber is sent the stock it reads when
   * the push arrives (inventory.ts), and an instance that missed the invalidations of an outage would
   * otherwise read its old copy.
   */
  private async catchUp(productIds: number[]): Promise<void> {
    const { db, cache, keys } = this.deps;
    if (!db) return;
    try {
      await cache.invalidate(productIds.map((id) => keys.entityKey('Inventory', String(id))));
      await this.push(await db.inventory.findMany({ where: { productId: { in: productIds } } }));
    } catch (error) {
      for (const id of productIds) this.missed.add(id);
      this.deps.logger.warn({ err: error }, 'missed stock pushes not caught up; retried when redis is back');
    }
  }
}
