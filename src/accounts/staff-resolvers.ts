// Resolvers of tenants and staff (schema/staff.graphql). The @requires permission is checked before these
// run; here the organization is scoped: staff managers act only for their own.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { requireOrganizationPermission, requirePlatformAdmin, requireViewer } from './authorization.ts';

export const staffResolvers: Resolvers = {
  Query: {
    organizationMembers: (_root, { organizationId }, context) => {
      const id = parseUuid(organizationId, 'organizationId');
      requireOrganizationPermission(context, id, 'STAFF_MANAGE');
      return context.services.staff.members(id);
    },
  },
  Mutation: {
    createOrganization: (_root, { input }, context) =>
      context.services.staff.createOrganization(requirePlatformAdmin(context), input),
    addOrganizationMember: (_root, { organizationId, email, role }, context) => {
      const id = parseUuid(organizationId, 'organizationId');
      const actor = requireOrganizationPermission(context, id, 'STAFF_MANAGE');
      return context.services.staff.addMember(actor, id, email, role);
    },
    updateMemberRole: (_root, { userId, role }, context) =>
      context.services.staff.updateMemberRole(requireViewer(context), parseUuid(userId, 'userId'), role),
    removeMember: (_root, { userId }, context) =>
      context.services.staff.removeMember(requireViewer(context), parseUuid(userId, 'userId')),
  },
  OrganizationMember: {
    organizationId: (user) => user.organizationId ?? '',
  },
};
