// Platform-admin views: the audit trail, this instance's cache state, and cache purges by tag.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parsePageSize, parseUuid } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';
import { requirePlatformAdmin } from './authorization.ts';

const PURGEABLE_TAGS = new Set(['Product', 'Event']);

export const adminResolvers: Resolvers = {
  Query: {
    auditLog: async (_root, { action, organizationId, first }, context) => {
      requirePlatformAdmin(context);
      return context.services.audit.list({
        action: action ?? null,
        organizationId: organizationId ? parseUuid(organizationId, 'organizationId') : null,
        first: parsePageSize(first),
      });
    },
    cacheStats: (_root, _args, context) => {
      requirePlatformAdmin(context);
      const { cache, cacheMode } = context.services;
      return { ...cache.stats(), mode: cacheMode };
    },
  },
  Mutation: {
    purgeCache: async (_root, { tags }, context) => {
      const viewer = requirePlatformAdmin(context);
      const unknown = tags.filter((t) => !PURGEABLE_TAGS.has(t));
      if (unknown.length || tags.length === 0)
        throw new BadUserInputError(`tags must be among ${[...PURGEABLE_TAGS].join(', ')}`, 'tags');
      await context.services.cache.invalidateTags(tags);
      await context.services.audit.record({ action: 'CACHE_PURGE', actorId: viewer.userId, detail: { tags } });
      return true;
    },
  },
};
