// Mutations of the storefront: authorization first, then the product service (write, then invalidate).
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { requireOrganizationAdmin, requireViewer } from '../accounts/authorization.ts';
import { parseIntId, parsePageSize } from '../graphql/arguments.ts';
import { loadExisting } from '../graphql/load.ts';
import { NotFoundError } from '../infra/errors.ts';
import type { AuditAction } from '../accounts/audit.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { Product } from '../generated/prisma/client.ts';

export function audit(context: GatewayContext, actorId: string, action: AuditAction, product: Product): Promise<void> {
  return context.services.audit.record({
    action,
    actorId,
    organizationId: product.organizationId,
    targetType: 'Product',
    targetId: String(product.id),
  });
}

export const commerceMutations: Resolvers = {
  Mutation: {
    createProduct: async (_root, { input }, context) => {
      // An organization admin sells as their organization; a platform admin chooses (or none: the
      // platform's own catalog).
      const sellerId = input.sellerId ?? (context.viewer?.role === 'ORG_ADMIN' ? context.viewer.organizationId : null);
      const viewer = requireOrganizationAdmin(context, sellerId);
      const product = await context.services.products.create(input, sellerId);
      await audit(context, viewer.userId, 'PRODUCT_CREATED', product);
      return product;
    },
    updateProduct: async (_root, { id, input }, context) => {
      const product = await context.services.products.get(id);
      const viewer = requireOrganizationAdmin(context, product.organizationId);
      const updated = await context.services.products.update(product, input);
      await audit(context, viewer.userId, 'PRODUCT_UPDATED', product);
      return updated;
    },
    deleteProduct: async (_root, { id }, context) => {
      const product = await context.services.products.get(id);
      const viewer = requireOrganizationAdmin(context, product.organizationId);
      const deleted = await context.services.products.delete(product);
      await audit(context, viewer.userId, 'PRODUCT_DELETED', product);
      return deleted;
    },
    setStock: async (_root, { productId, onHand }, context) => {
      const product = await context.services.products.get(productId);
      const viewer = requireOrganizationAdmin(context, product.organizationId);
      const inventory = await context.services.products.setStock(product, onHand);
      await audit(context, viewer.userId, 'STOCK_SET', product);
      return inventory;
    },
    toggleWishlist: async (_root, { productId }, context) => {
      const viewer = requireViewer(context);
      const product = await context.loaders.product.load(parseIntId(productId, 'productId'));
      if (!product) throw new NotFoundError('product');
      return context.services.wishlist.toggle(viewer.userId, product.id);
    },
  },
  User: {
    wishlist: async (user, { first }, context) => {
      const viewer = requireViewer(context);
      if (viewer.userId !== user.id) return [];
      const ids = await context.services.wishlist.productIdsOf(viewer.userId, parsePageSize(first));
      return loadExisting(context.loaders.product, ids);
    },
  },
};
