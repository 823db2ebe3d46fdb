// Admin views: the audit trail (an organization admin's own organization's; a platform admin's, any),
// this instance's cache state, and cache purges by tag.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parsePageSize, parseUuid } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';
import { PURGEABLE_TAGS, type PurgeableTag } from './tenant-cache.ts';
import { requireOrganizationPermission, requirePlatformAdmin, requireViewer } from './authorization.ts';

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
    cacheStats: async (_root, { organizationId }, context) => {
      const { cache, cacheMode, tenantCache } = context.services;
      if (!organizationId) {
        requirePlatformAdmin(context);
        return { ...cache.stats(), mode: cacheMode };
      }
      // One organization's share, across the cluster: its admins, or platform admins.
      const id = parseUuid(organizationId, 'organizationId');
      requireOrganizationPermission(context, id, 'CACHE_VIEW');
      const tenant = await tenantCache.stats(id);
      return { ...cache.stats(), mode: cacheMode, organization: tenant && { organizationId: id, ...tenant } };
    },
  },
  Mutation: {
    purgeCache: async (_root, { tags, organizationId }, context) => {
      const unknown = tags.filter((t) => !(PURGEABLE_TAGS as readonly string[]).includes(t));
      if (unknown.length || tags.length === 0)
        throw new BadUserInputError(`tags must be among ${PURGEABLE_TAGS.join(', ')}`, 'tags');
      const purgeable = tags as PurgeableTag[];
      if (organizationId) {
        // One organization's share: its admins, or platform admins.
        const id = parseUuid(organizationId, 'organizationId');
        const viewer = requireOrganizationPermission(context, id, 'CACHE_PURGE');
        const entries = await context.services.tenantCache.purge(id, purgeable);
        await context.services.audit.record({
          action: 'CACHE_PURGE',
          actorId: viewer.userId,
          organizationId: id,
          detail: { tags, entries },
        });
        return true;
      }
      const viewer = requirePlatformAdmin(context);
      await context.services.cache.invalidateTags(tags);
      await context.services.audit.record({ action: 'CACHE_PURGE', actorId: viewer.userId, detail: { tags } });
      return true;
    },
  },
};
