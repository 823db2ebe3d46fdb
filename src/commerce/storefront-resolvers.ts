// Resolvers of the storefront's private side: carts, checkout, orders, member prices, stock admin and
// cache warming. Authorization first, then a service; every read through the request's loaders.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { requireOrganizationAdmin, requirePlatformAdmin, requireViewer } from '../accounts/authorization.ts';
import { parseIntId } from '../graphql/arguments.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { BadUserInputError, NotFoundError } from '../infra/errors.ts';
import type { AuditAction } from '../accounts/audit.ts';
import type { Product } from '../generated/prisma/client.ts';
import { viewCart } from './cart-view.ts';
import { lowStock } from './low-stock.ts';
import { viewerTier } from './member-tier.ts';
import { CURRENCY } from './pricing.ts';
import { audit } from './mutations.ts';

async function existingProduct(context: GatewayContext, productId: string): Promise<Product> {
  const product = await context.loaders.product.load(parseIntId(productId, 'productId'));
  if (!product) throw new NotFoundError('product');
  return product;
}

/** An admin of the product's seller (or a platform admin) did something to it: audited. */
async function asProductAdmin<T>(
  context: GatewayContext,
  productId: string,
  action: AuditAction,
  work: (product: Product) => Promise<T>,
): Promise<T> {
  const product = await context.services.products.get(productId);
  const viewer = requireOrganizationAdmin(context, product.organizationId);
  const result = await work(product);
  await audit(context, viewer.userId, action, product);
  return result;
}

async function changeCart(
  context: GatewayContext,
  productId: string,
  quantity: number,
  mode: 'set' | 'add',
): Promise<ReturnType<typeof viewCart>> {
  const viewer = requireViewer(context);
  const product = await existingProduct(context, productId);
  const lines = await context.services.carts.change(viewer.userId, product.id, quantity, mode);
  return viewCart(context.loaders, lines, viewerTier(context));
}

export const storefrontResolvers: Resolvers = {
  Query: {
    cart: async (_root, _args, context) => {
      const viewer = requireViewer(context);
      return viewCart(context.loaders, await context.services.carts.lines(viewer.userId), viewerTier(context));
    },
    myOrders: (_root, args, context) => context.services.orders.pageOf(requireViewer(context).userId, args),
    order: (_root, { id }, context) => context.services.orders.ofUser(requireViewer(context).userId, id),
    lowStock: (_root, { threshold, first }, context) => {
      const viewer = requireViewer(context);
      if (viewer.role === 'PLATFORM_ADMIN')
        return lowStock(context.services.db, context.loaders, { threshold, first, organizationId: null });
      const own = requireOrganizationAdmin(context, viewer.organizationId);
      return lowStock(context.services.db, context.loaders, { threshold, first, organizationId: own.organizationId });
    },
  },
  Mutation: {
    addToCart: (_root, { productId, quantity }, context) => {
      if (quantity == null || !Number.isInteger(quantity) || quantity < 1)
        throw new BadUserInputError('quantity must be at least 1', 'quantity');
      return changeCart(context, productId, quantity, 'add');
    },
    updateCartItem: (_root, { productId, quantity }, context) => {
      if (!Number.isInteger(quantity) || quantity < 0)
        throw new BadUserInputError('quantity must be 0 or more', 'quantity');
      return changeCart(context, productId, quantity, 'set');
    },
    removeFromCart: (_root, { productId }, context) => changeCart(context, productId, 0, 'set'),
    checkout: async (_root, { shippingAddress, idempotencyKey }, context) => {
      const viewer = requireViewer(context);
      const tier = viewerTier(context);
      return context.services.checkout.checkout(
        context.loaders,
        { userId: viewer.userId, tier },
        shippingAddress,
        idempotencyKey,
      );
    },
    setMemberPrice: (_root, { productId, tier, price }, context) =>
      asProductAdmin(context, productId, 'PRODUCT_UPDATED', async (product) => {
        const row = await context.services.products.setMemberPrice(product, tier, price);
        return { tier: row.tier, amount: row.price, currency: CURRENCY, isMemberPrice: true };
      }),
    restock: (_root, { productId, quantity }, context) =>
      asProductAdmin(context, productId, 'STOCK_SET', (product) =>
        context.services.products.restock(product, quantity),
      ),
    warmCache: (_root, _args, context) => {
      requirePlatformAdmin(context);
      return context.services.warmer.warm('request');
    },
  },
  CacheStats: {
    lastWarming: (_stats, _args, context) => context.services.warmer.last ?? null,
  },
  Order: {
    shippingAddress: (order) => ({
      line1: order.line1,
      postcode: order.postcode,
      city: order.city,
      state: order.state,
    }),
  },
  OrderItem: {
    productId: (item) => (item.productId === null ? null : String(item.productId)),
  },
};
