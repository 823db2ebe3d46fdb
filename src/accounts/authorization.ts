// Authorization checks resolvers call before they touch data. Roles: CUSTOMER; ORG_ADMIN, scoped to one
// organization; PLATFORM_ADMIN, everything.
import type { Viewer } from './viewer.ts';

/** What the checks read of a request: only who is asking. */
type Asking = { viewer: Viewer | null };
import { ForbiddenError, UnauthenticatedError } from '../infra/errors.ts';

export function requireViewer(context: Asking): Viewer {
  if (!context.viewer) throw new UnauthenticatedError();
  return context.viewer;
}

/**
 * The organization an admin may act for. A platform admin may act for any (the one named, when
 * given); an organization admin only for their own; anyone else for none.
 */
export function requireOrganizationAdmin(context: Asking, organizationId: string | null | undefined): Viewer {
  const viewer = requireViewer(context);
  if (viewer.role === 'PLATFORM_ADMIN') return viewer;
  if (viewer.role === 'ORG_ADMIN' && viewer.organizationId !== null && viewer.organizationId === organizationId)
    return viewer;
  throw new ForbiddenError('only an admin of the owning organization may do this');
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
