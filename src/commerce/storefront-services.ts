// The storefront's services, built once by the composition root (src/server/app.ts) from its clients.
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { RequestStats } from '../cache/loader-factory.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { CacheWarmer, type WarmLoaders } from './cache-warming.ts';
import { CartStore } from './cart-store.ts';
import { CheckoutService } from './checkout-service.ts';
import { OrderService } from './orders.ts';
import { ProductService } from './product-service.ts';
import { LowStockAlerts } from './low-stock-alerts.ts';
import { StockEvents } from './stock-events.ts';
import { TransactionRunner } from './transactions.ts';

export interface StorefrontDeps {
  db: Database;
  cache: EntityCache;
  keys: KeyBuilder;
  bus: EventBus;
  redis: RedisCircuit | undefined;
  logger: Logger;
  /** Request loaders, for warming the cache outside any request. */
  createLoaders: (stats: RequestStats) => WarmLoaders;
}

export function createStorefrontServices(config: Config, deps: StorefrontDeps) {
  const { db, cache, keys, bus, redis, logger } = deps;
  const lowStock = new LowStockAlerts({ db, bus, logger, threshold: config.operations.lowStockThreshold });
  const stock = new StockEvents({ cache, keys, bus, logger, lowStock, db, redis });
  // Leaves a couple of pool connections to reads while carts and checkouts queue.
  const transactions = new TransactionRunner(db, Math.max(1, config.databasePoolSize - 2));
  const carts = new CartStore(
    { db, redis, cache, prefix: config.cachePrefix, ttlSeconds: config.storefront.cartTtlSeconds },
    transactions,
  );
  return {
    products: new ProductService({ db, cache, keys, stock }),
    carts,
    checkout: new CheckoutService({ db, carts, stock, transactions }),
    orders: new OrderService(db),
    stock,
    warmer: new CacheWarmer({ db, createLoaders: deps.createLoaders, logger }),
  };
}
