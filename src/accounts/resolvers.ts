// Resolvers of accounts. `me` reads the user through the request-scoped loader: never a shared cache.
import type { Resolvers } from '../generated/graphql/resolvers.ts';

export const accountResolvers: Resolvers = {
  Query: {
    me: (_root, _args, { viewer, loaders }) => (viewer ? loaders.user.load(viewer.userId) : null),
  },
  User: {
    organization: (user, _args, { loaders }) => (user.organizationId ? loaders.organization.load(user.organizationId) : null),
  },
};
