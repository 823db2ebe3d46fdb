// LOW_STOCK activity: after a committed stock change (stock-events.ts) leaves a product with
// LOW_STOCK_THRESHOLD or fewer available, its organization's staff hear it live (organizationActivity,
// docs/ARCHITECTURE.md "Operations platform"). Only changes that end low cost a statement: the products'
// organizations, read in one query.
import type { Database } from '../db/prisma.ts';
import type { Inventory } from '../generated/prisma/client.ts';
import type { Logger } from '../infra/logger.ts';
import { publishActivity } from '../accounts/organization-activity.ts';
import type { EventBus } from '../realtime/event-bus.ts';

export class LowStockAlerts {
  constructor(private readonly deps: { db: Database; bus: EventBus; logger: Logger; threshold: number }) {}

  /** A failure is logged, never thrown: the stock change has committed. */
  async check(inventories: readonly Inventory[]): Promise<void> {
    const { db, bus, logger, threshold } = this.deps;
    const low = inventories.filter((i) => i.onHand - i.reserved <= threshold);
    if (low.length === 0) return;
    try {
      const products = await db.product.findMany({
        where: { id: { in: low.map((i) => i.productId) } },
        select: { id: true, organizationId: true },
      });
      const organizationOf = new Map(products.map((p) => [p.id, p.organizationId]));
      for (const inventory of low) {
        const organizationId = organizationOf.get(inventory.productId);
        if (!organizationId) continue;
        const { onHand, reserved } = inventory;
        await publishActivity(bus, {
          organizationId,
          action: 'LOW_STOCK',
          targetType: 'Product',
          targetId: String(inventory.productId),
          at: new Date(),
          stock: { available: onHand - reserved, onHand, reserved, threshold },
        });
      }
    } catch (error) {
      logger.warn({ err: error, products: low.map((i) => i.productId) }, 'low stock not sent to the activity');
    }
  }
}
