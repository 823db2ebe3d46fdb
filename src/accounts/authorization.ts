// Authorization checks resolvers call before they touch data. Roles: CUSTOMER; staff of one organization
// (ORG_ADMIN, BOX_OFFICE, CATALOG_MANAGER); PLATFORM_ADMIN, everything. What each role may do is declared
// per field with @requires (src/accounts/permissions/); these checks add the scope: the organization that
// owns the stored row.
import type { Viewer } from './viewer.ts';
import { holds, STAFF_ROLES, type Permission } from './permissions/role-permissions.ts';

/** What the checks read of a request: only who is asking. */
type Asking = { viewer: Viewer | null };
import { ForbiddenError, UnauthenticatedError } from '../infra/errors.ts';

export function requireViewer(context: Asking): Viewer {
  if (!context.viewer) throw new UnauthenticatedError();
  return context.viewer;
}

/**
 * The organization staff may act for. A platform admin may act for any (the one named, when given);
 * staff only for their own; anyone else for none. Which staff role may do what is the field's @requires
 * permission, checked before this runs and again when the field resolves.
 */
export function requireOrganizationAdmin(context: Asking, organizationId: string | null | undefined): Viewer {
  const viewer = requireViewer(context);
  if (viewer.role === 'PLATFORM_ADMIN') return viewer;
  if (STAFF_ROLES.includes(viewer.role) && viewer.organizationId !== null && viewer.organizationId === organizationId)
    return viewer;
  throw new ForbiddenError('only an admin of the owning organization may do this');
}

/** Like requireOrganizationAdmin, for a named permission: platform admins, or own staff holding it. */
export function requireOrganizationPermission(
  context: Asking,
  organizationId: string | null | undefined,
  permission: Permission,
): Viewer {
  const viewer = requireViewer(context);
  if (viewer.role === 'PLATFORM_ADMIN') return viewer;
  if (viewer.organizationId !== null && viewer.organizationId === organizationId && holds(viewer.role, permission))
    return viewer;
  throw new ForbiddenError('not allowed for this organization');
}

/** Whether the viewer administers the organization (platform admins administer all). Never throws. */
export function administers(viewer: Viewer | null, organizationId: string | null | undefined): boolean {
  if (!viewer) return false;
  return (
    viewer.role === 'PLATFORM_ADMIN' ||
    (viewer.role === 'ORG_ADMIN' && viewer.organizationId !== null && viewer.organizationId === organizationId)
  );
}

export function requirePlatformAdmin(context: Asking): Viewer {
  const viewer = requireViewer(context);
  if (viewer.role !== 'PLATFORM_ADMIN') throw new ForbiddenError('only platform admins may do this');
  return viewer;
}
