// Resolvers of the storefront: thin, every read through the request's loaders.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import type { Inventory } from '../generated/prisma/client.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { parseIntId } from '../graphql/arguments.ts';
import { loadExisting, loadRequired } from '../graphql/load.ts';
import { currentStock, inventoryTopic } from './inventory.ts';
import { pricingTier } from './member-tier.ts';
import { priceFor } from './pricing.ts';
import { countProducts, cursorOf, listProducts } from './product-listing.ts';

export const commerceResolvers: Resolvers = {
  Query: {
    product: (_root, { id }, { loaders }) => loaders.product.load(parseIntId(id, 'id')),
    products: (_root, args, { loaders }) => listProducts(loaders, args),
    categories: async (_root, _args, { loaders }) =>
      (await loaders.categoryTree.load('all')).filter((c) => c.parentId === null),
    category: (_root, { id }, { loaders }) => loaders.category.load(parseIntId(id, 'id')),
  },
  Category: {
    id: (category) => String(category.id),
    parent: (category, _args, { loaders }) =>
      category.parentId === null ? null : loaders.category.load(category.parentId),
    children: async (category, _args, { loaders }) =>
      (await loaders.categoryTree.load('all')).filter((c) => c.parentId === category.id),
    products: (category, args, { loaders }) =>
      listProducts(loaders, {
        ...args,
        filter: { categoryId: String(category.id), includeSubcategories: args.includeSubcategories },
      }),
  },
  Product: {
    id: (product) => String(product.id),
    basePrice: (product) => product.price,
    price: async (product, { tier }, context) => priceFor(context.loaders, product, pricingTier(context, tier)),
    category: (product, _args, { loaders }) => loadRequired(loaders.category, product.categoryId, 'category'),
    inventory: (product, _args, { loaders }) => loaders.inventory.load(product.id),
    seller: (product, _args, { loaders }) =>
      product.organizationId ? loaders.organization.load(product.organizationId) : null,
  },
  Inventory: {
    productId: (inventory) => String(inventory.productId),
    available: (inventory) => inventory.onHand - inventory.reserved,
    inStock: (inventory) => inventory.onHand - inventory.reserved > 0,
  },
  ProductConnection: {
    nodes: (page, _args, { loaders }) => loadExisting(loaders.product, page.ids),
    edges: async (page, _args, { loaders }) =>
      (await loadExisting(loaders.product, page.ids)).map((node) => ({ node, cursor: cursorOf(node, page.sort) })),
    pageInfo: async (page, _args, { loaders }) => {
      const last = page.ids.length ? await loaders.product.load(page.ids[page.ids.length - 1]!) : null;
      return { hasNextPage: page.hasNextPage, endCursor: last ? cursorOf(last, page.sort) : null };
    },
    totalCount: (page, _args, { loaders }) => countProducts(loaders, page),
  },
  Subscription: {
    inventoryChanged: {
      subscribe: (_root, { productId }, { services }) =>
        services.bus.iterate(inventoryTopic(parseIntId(productId, 'productId'))),
      resolve: (payload: Inventory, _args: unknown, { loaders }: GatewayContext) =>
        currentStock(loaders.inventory, payload),
    },
  },
};
