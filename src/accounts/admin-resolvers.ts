// Admin views: the audit trail (an organization admin's own organization's; a platform admin's, any),
// this instance's cache state, and cache purges by tag.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parsePageSize, parseUuid } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';
import { requireOrganizationPermission, requirePlatformAdmin, requireViewer } from './authorization.ts';

const PURGEABLE_TAGS = new Set(['Product', 'Event']);

export const adminResolvers: Resolvers = {
  Query: {
    auditLog: async (_root, { action, organizationId, first }, context) => {
      const viewer = requireViewer(context);
      const named = organizationId ? parseUuid(organizationId, 'organizationId') : null;
      // Anyone but a platform admin reads their own organization's trail only, named or not.
      const scope = viewer.role === 'PLATFORM_ADMIN' ? named : (named ?? viewer.organizationId);
      if (viewer.role !== 'PLATFORM_ADMIN') requireOrganizationPermission(context, scope, 'AUDIT_READ');
      return context.services.audit.list({
        action: action ?? null,
        organizationId: scope,
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
