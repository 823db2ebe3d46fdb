// Member-tier pricing: REGULAR is the product's base price; other tiers have their own rows, cached
// separately (30 min) because they change independently of the product.
import type { Decimal } from '@prisma/client/runtime/client';
import type { MemberTier, Product } from '../generated/prisma/client.ts';
import type { CommerceLoaders } from './loaders.ts';

export const CURRENCY = 'MYR';

export interface PriceView {
  tier: MemberTier;
  amount: Decimal;
  currency: string;
  isMemberPrice: boolean;
}

export async function priceFor(loaders: CommerceLoaders, product: Product, tier: MemberTier): Promise<PriceView> {
  const base: PriceView = { tier, amount: product.price, currency: CURRENCY, isMemberPrice: false };
  if (tier === 'REGULAR') return base;
  const memberPrice = await loaders.memberPrice.load({ productId: product.id, tier });
  // A product without a price for this tier sells at its base price.
  return memberPrice ? { tier, amount: memberPrice.price, currency: CURRENCY, isMemberPrice: true } : base;
}
