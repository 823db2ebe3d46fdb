// What the Cart type shows: each line with the current price for the member's tier and the current stock,
// read through the request's loaders (one batch per type, whatever the number of lines).
import type { Decimal } from '@prisma/client/runtime/client';
import { Prisma, type MemberTier, type Product } from '../generated/prisma/client.ts';
import { loadExisting } from '../graphql/load.ts';
import type { CartLine } from './cart-store.ts';
import type { CommerceLoaders } from './loaders.ts';
import { CURRENCY, priceFor, type PriceView } from './pricing.ts';

export interface CartItemView {
  product: Product;
  quantity: number;
  unitPrice: PriceView;
  lineTotal: Decimal;
  available: number;
  isAvailable: boolean;
}

export interface CartView {
  items: CartItemView[];
  itemCount: number;
  subtotal: Decimal;
  currency: string;
  weightGrams: number;
  hasUnavailableItems: boolean;
}

export async function viewCart(
  loaders: CommerceLoaders,
  lines: readonly CartLine[],
  tier: MemberTier,
): Promise<CartView> {
  // A product deleted since it was added is gone from the cart (its line was deleted with it).
  const products = new Map(
    (
      await loadExisting(
        loaders.product,
        lines.map((l) => l.productId),
      )
    ).map((p) => [p.id, p]),
  );
  const kept = lines.filter((l) => products.has(l.productId));
  const [inventories, prices] = await Promise.all([
    loaders.inventory.loadMany(kept.map((l) => l.productId)),
    Promise.all(kept.map((l) => priceFor(loaders, products.get(l.productId)!, tier))),
  ]);
  const items = kept.map((line, i): CartItemView => {
    const inventory = inventories[i];
    if (inventory instanceof Error) throw inventory;
    const available = inventory ? inventory.onHand - inventory.reserved : 0;
    const unitPrice = prices[i]!;
    return {
      product: products.get(line.productId)!,
      quantity: line.quantity,
      unitPrice,
      lineTotal: new Prisma.Decimal(unitPrice.amount).mul(line.quantity),
      available,
      isAvailable: available >= line.quantity,
    };
  });
  return {
    items,
    itemCount: items.reduce((n, item) => n + item.quantity, 0),
    subtotal: items.reduce((sum, item) => sum.add(item.lineTotal), new Prisma.Decimal(0)),
    currency: CURRENCY,
    weightGrams: items.reduce((n, item) => n + item.product.weightGrams * item.quantity, 0),
    hasUnavailableItems: items.some((item) => !item.isAvailable),
  };
}
