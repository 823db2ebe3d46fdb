// The audit trail: sign-ins, failures, lockouts, admin changes and cache purges, in
// PostgreSQL. Entries name users by id, never by email, and carry no secrets.
import type { Database } from '../db/prisma.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import { ACTIVITY_ACTIONS, publishActivity } from './organization-activity.ts';

export type AuditAction =
  | 'SIGN_UP'
  | 'SIGN_IN'
  | 'SIGN_IN_FAILED'
  | 'LOCKOUT'
  | 'SIGN_OUT'
  | 'PRODUCT_CREATED'
  | 'PRODUCT_UPDATED'
  | 'PRODUCT_DELETED'
  | 'STOCK_SET'
  | 'VENUE_CREATED'
  | 'VENUE_UPDATED'
  | 'EVENT_CREATED'
  | 'EVENT_UPDATED'
  | 'CACHE_PURGE'
  | 'ORGANIZATION_CREATED'
  | 'MEMBER_ADDED'
  | 'MEMBER_ROLE_CHANGED'
  | 'MEMBER_REMOVED'
  | 'SESSIONS_REVOKED'
  | 'SESSION_REVOKED'
  | 'PASSWORD_CHANGED'
  | 'PASSWORD_RESET_REQUESTED'
  | 'PASSWORD_RESET'
  | 'AUDIT_PURGED';

export interface AuditEntry {
  action: AuditAction;
  actorId?: string | null;
  organizationId?: string | null;
  targetType?: string;
  targetId?: string;
  detail?: Prisma.InputJsonValue;
}

export interface AuditQuery {
  action?: string | null;
  organizationId?: string | null;
  first: number;
}

export class AuditLog {
  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Where an organization's activity is published (organization-activity.ts); none: not published. */
    private readonly bus?: EventBus,
  ) {}

  /** Newest first. The trail is never cached: it is read rarely and must be exact. */
  async list(query: AuditQuery) {
    const rows = await this.db.auditLog.findMany({
      where: {
        ...(query.action && { action: query.action }),
        ...(query.organizationId && { organizationId: query.organizationId }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: query.first,
    });
    return rows.map((row) => ({ ...row, id: String(row.id) }));
  }

  /**
   * Records an entry. Awaited by callers: an admin change is not reported done before its audit row is
   * written. A failure to write is logged and does not undo the change (it is already committed).
   */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.db.auditLog.create({
        data: {
          action: entry.action,
          actorId: entry.actorId ?? null,
          organizationId: entry.organizationId ?? null,
          targetType: entry.targetType ?? null,
          targetId: entry.targetId ?? null,
          ...(entry.detail !== undefined && { detail: entry.detail }),
        },
      });
    } catch (error) {
      this.logger.error({ err: error, action: entry.action }, 'audit entry could not be written');
    }
    if (this.bus && entry.organizationId && ACTIVITY_ACTIONS.has(entry.action)) {
      const activity = {
        organizationId: entry.organizationId,
        action: entry.action,
        targetType: entry.targetType ?? null,
        targetId: entry.targetId ?? null,
        at: new Date(),
      };
      // The change is committed: a lost announcement is logged, never turned into a failed write.
      await publishActivity(this.bus, activity).catch((error: unknown) =>
        this.logger.warn({ err: error, action: entry.action }, 'organization activity could not be published'),
      );
    }
  }
}
