// Mutations of the storefront: authorization first, then the product service (write, then invalidate).
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { requireOrganizationAdmin, requireViewer } from '../accounts/authorization.ts';
import { parseIntId, parsePageSize } from '../graphql/arguments.ts';
import { loadExisting } from '../graphql/load.ts';
import { NotFoundError } from '../server/errors.ts';

export const commerceMutations: Resolvers = {
  Mutation: {
    createProduct: (_root, { input }, context) => {
      // An organization admin sells as their organization; a platform admin chooses (or none: the platform's own catalog).
      const sellerId = input.sellerId ?? (context.viewer?.role === 'ORG_ADMIN' ? context.viewer.organizationId : null);
      requireOrganizationAdmin(context, sellerId);
      return context.services.products.create(input, sellerId);
    },
    updateProduct: async (_root, { id, input }, context) => {
      const product = await context.services.products.get(id);
      requireOrganizationAdmin(context, product.organizationId);
      return context.services.products.update(product, input);
    },
    deleteProduct: async (_root, { id }, context) => {
      const product = await context.services.products.get(id);
      requireOrganizationAdmin(context, product.organizationId);
      return context.services.products.delete(product);
    },
    setStock: async (_root, { productId, onHand }, context) => {
      const product = await context.services.products.get(productId);
      requireOrganizationAdmin(context, product.organizationId);
      return context.services.products.setStock(product, onHand);
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
