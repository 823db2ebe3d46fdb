// Tenants and their staff: organizations, members and their roles. Every change commits to PostgreSQL,
// then brings the member's sessions in line on every instance (a removed member's tokens stop working at
// once; a changed role applies from the next request), then is audited under the organization.
import { randomBytes } from 'node:crypto';
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { Database } from '../db/prisma.ts';
import type { Organization, User } from '../generated/prisma/client.ts';
import { BadUserInputError, ErrorCode, ForbiddenError, GatewayError, NotFoundError } from '../infra/errors.ts';
import { normaliseEmail } from './account-service.ts';
import type { AuditLog } from './audit.ts';
import type { StaffRole } from './permissions/role-permissions.ts';
import type { SessionService } from './sessions.ts';
import type { Viewer } from './viewer.ts';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** A password hash no password verifies against (src/accounts/password.ts knows only `scrypt$`): a new
 *  member sets their password through a reset. */
const unusablePasswordHash = (): string => `unset$${randomBytes(16).toString('base64url')}`;

const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === 'P2002';

export interface StaffServiceDeps {
  db: Database;
  sessions: SessionService;
  audit: AuditLog;
  cache: EntityCache;
  keys: KeyBuilder;
}

export class StaffService {
  constructor(private readonly deps: StaffServiceDeps) {}

  async createOrganization(actor: Viewer, input: { slug: string; name: string }): Promise<Organization> {
    const slug = input.slug.trim();
    const name = input.name.trim();
    if (!SLUG.test(slug)) throw new BadUserInputError('slug must be 2-64 of a-z, 0-9 and -', 'slug');
    if (name.length < 1 || name.length > 160) throw new BadUserInputError('name must be 1 to 160 characters', 'name');
    let organization: Organization;
    try {
      organization = await this.deps.db.organization.create({ data: { slug, name } });
    } catch (error) {
      if (isUniqueViolation(error)) throw new GatewayError('an organization with this slug exists', ErrorCode.CONFLICT);
      throw error;
    }
    // A lookup of this id before it existed may have been cached as absent.
    await this.deps.cache.invalidate([this.deps.keys.entityKey('Organization', organization.id)]);
    await this.deps.audit.record({
      action: 'ORGANIZATION_CREATED',
      actorId: actor.userId,
      organizationId: organization.id,
      targetType: 'Organization',
      targetId: organization.id,
    });
    return organization;
  }

  members(organizationId: string): Promise<User[]> {
    return this.deps.db.user.findMany({ where: { organizationId }, orderBy: [{ role: 'asc' }, { email: 'asc' }] });
  }

  /** Makes the account with this email staff of the organization; an unknown email gets a new account. */
  async addMember(actor: Viewer, organizationId: string, emailInput: string, role: StaffRole): Promise<User> {
    const email = normaliseEmail(emailInput);
    const organization = await this.deps.db.organization.findUnique({ where: { id: organizationId } });
    if (!organization) throw new NotFoundError('organization');
    const existing = await this.deps.db.user.findUnique({ where: { email } });
    let member: User;
    if (existing) {
      if (existing.role === 'PLATFORM_ADMIN' || existing.organizationId !== null)
        throw new GatewayError('this account is already staff of an organization', ErrorCode.CONFLICT);
      // Conditional: two admins adding the same account at once cannot both win.
      const { count } = await this.deps.db.user.updateMany({
        where: { id: existing.id, organizationId: null, role: 'CUSTOMER' },
        data: { organizationId, role },
      });
      if (count !== 1) throw new GatewayError('this account is already staff of an organization', ErrorCode.CONFLICT);
      member = { ...existing, organizationId, role };
      await this.deps.sessions.refreshAllOf(existing.id);
    } else {
      try {
        member = await this.deps.db.user.create({
          data: {
            email,
            displayName: email.split('@')[0]!,
            passwordHash: unusablePasswordHash(),
            organizationId,
            role,
          },
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw new GatewayError('this account is already staff of an organization', ErrorCode.CONFLICT);
        throw error;
      }
    }
    await this.audited(actor, 'MEMBER_ADDED', member, { role });
    return member;
  }

  async updateMemberRole(actor: Viewer, userId: string, role: StaffRole): Promise<User> {
    const member = await this.memberFor(actor, userId);
    const { count } = await this.deps.db.user.updateMany({
      where: { id: member.id, organizationId: member.organizationId },
      data: { role },
    });
    if (count !== 1) throw new NotFoundError('member');
    await this.deps.sessions.refreshAllOf(member.id);
    await this.audited(actor, 'MEMBER_ROLE_CHANGED', member, { from: member.role, to: role });
    return { ...member, role };
  }

  async removeMember(actor: Viewer, userId: string): Promise<boolean> {
    const member = await this.memberFor(actor, userId);
    const { count } = await this.deps.db.user.updateMany({
      where: { id: member.id, organizationId: member.organizationId },
      data: { organizationId: null, role: 'CUSTOMER' },
    });
    if (count !== 1) throw new NotFoundError('member');
    const revoked = await this.deps.sessions.revokeAllOf(member.id);
    await this.audited(actor, 'MEMBER_REMOVED', member, { role: member.role });
    await this.audited(actor, 'SESSIONS_REVOKED', member, { count: revoked });
    return true;
  }

  /**
   * The member the actor may manage: staff of the actor's own organization (any organization's for a
   * platform admin), never the actor themself. Outside that, an organization admin learns nothing more
   * than FORBIDDEN.
   */
  private async memberFor(actor: Viewer, userId: string): Promise<User & { organizationId: string }> {
    if (userId === actor.userId) throw new BadUserInputError('you cannot change your own membership', 'userId');
    const member = await this.deps.db.user.findUnique({ where: { id: userId } });
    const isMember = member !== null && member.organizationId !== null && member.role !== 'PLATFORM_ADMIN';
    if (actor.role === 'PLATFORM_ADMIN') {
      if (!isMember) throw new NotFoundError('member');
      return member as User & { organizationId: string };
    }
    if (!isMember || member.organizationId !== actor.organizationId)
      throw new ForbiddenError("only an admin of the member's organization may do this");
    return member as User & { organizationId: string };
  }

  private audited(
    actor: Viewer,
    action: 'MEMBER_ADDED' | 'MEMBER_ROLE_CHANGED' | 'MEMBER_REMOVED' | 'SESSIONS_REVOKED',
    member: User,
    detail: Record<string, string | number>,
  ) {
    return this.deps.audit.record({
      action,
      actorId: actor.userId,
      organizationId: member.organizationId,
      targetType: 'User',
      targetId: member.id,
      detail,
    });
  }
}
