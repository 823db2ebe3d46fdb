// Which role holds which permission (the permission names are the Permission enum of
// schema/permissions.graphql). Staff roles act only within their own organization: the check scopes
// `organizationId` arguments, and resolvers scope by the owning organization of the stored row.
import type { Role } from '../../generated/prisma/enums.ts';

export type { Role };

/** The Permission enum of schema/permissions.graphql (test/accounts/permissions.test.ts keeps them equal). */
export const PERMISSIONS = [
  'PUBLIC',
  'SIGNED_IN',
  'CATALOG_MANAGE',
  'EVENT_MANAGE',
  'STAFF_MANAGE',
  'ORGANIZATION_CREATE',
  'AUDIT_READ',
  'CACHE_VIEW',
  'CACHE_PURGE',
  'ACTIVITY_VIEW',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const CUSTOMER: readonly Permission[] = ['PUBLIC', 'SIGNED_IN'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  CUSTOMER: new Set(CUSTOMER),
  BOX_OFFICE: new Set([...CUSTOMER, 'ACTIVITY_VIEW']),
  CATALOG_MANAGER: new Set([...CUSTOMER, 'CATALOG_MANAGE', 'ACTIVITY_VIEW']),
  ORG_ADMIN: new Set([
    ...CUSTOMER,
    'CATALOG_MANAGE',
    'EVENT_MANAGE',
    'STAFF_MANAGE',
    'AUDIT_READ',
    'CACHE_VIEW',
    'CACHE_PURGE',
    'ACTIVITY_VIEW',
  ]),
  /** Every permission, for every organization. */
  PLATFORM_ADMIN: new Set(PERMISSIONS),
};

/** Roles that belong to one organization (and are managed by its admins). */
export const STAFF_ROLES: readonly Role[] = ['ORG_ADMIN', 'BOX_OFFICE', 'CATALOG_MANAGER'];

export function holds(role: Role | null, permission: Permission): boolean {
  if (permission === 'PUBLIC') return true;
  return role !== null && ROLE_PERMISSIONS[role].has(permission);
}

export type StaffRole = 'ORG_ADMIN' | 'BOX_OFFICE' | 'CATALOG_MANAGER';
