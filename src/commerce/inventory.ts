// Stock: the topic of live stock updates. Every committed stock change is pushed on it (StockEvents, the
// change feed, catch-ups after an outage), and inventoryChanged subscribers listen on it.
import type DataLoader from 'dataloader';
import type { Inventory } from '../generated/prisma/client.ts';

export function inventoryTopic(productId: number): string {
  return `inventory:${productId}`;
}

/**
 * What a subscriber is sent for a push: the stock as it is now, not as the push carried it. Pushes of one
 * product come from several places (two checkouts on two instances, the change feed, a catch-up) and
 * reach an instance in any order, each with the row its sender read; the last to arrive could carry an
 * older row than one before it, and the subscriber would keep it. Read after the push arrived, the last
 * one sent is the stock after the last change, since every sender invalidates the cached stock (and
 * waits for the other instances to drop theirs) before it pushes. Without a read (PostgreSQL away with
 * nothing cached) the pushed row is sent as it came.
 */
export async function currentStock(
  inventory: DataLoader<number, Inventory | null, string>,
  pushed: Inventory,
): Promise<Inventory> {
  try {
    return (await inventory.clear(pushed.productId).load(pushed.productId)) ?? pushed;
  } catch {
    return pushed;
  }
}
