// What a signed-in user does to their own account: change the password (their other sessions end) and
// sign out everywhere.
import type { Database } from '../db/prisma.ts';
import { WrongPasswordError } from './account-errors.ts';
import { checkPassword } from './account-service.ts';
import type { AuditLog } from './audit.ts';
import { hashPassword, verifyPassword } from './password.ts';
import type { SessionService } from './sessions.ts';
import type { Viewer } from './viewer.ts';

export class SelfService {
  constructor(private readonly deps: { db: Database; sessions: SessionService; audit: AuditLog }) {}

  async changePassword(viewer: Viewer, currentPassword: string, newPassword: string): Promise<true> {
    checkPassword(newPassword);
    const user = await this.deps.db.user.findUniqueOrThrow({ where: { id: viewer.userId } });
    if (currentPassword.length > 200 || !(await verifyPassword(currentPassword, user.passwordHash)))
      throw new WrongPasswordError();
    // Conditional on the hash it checked: two concurrent changes cannot both pass with the old password.
    const { count } = await this.deps.db.user.updateMany({
      where: { id: user.id, passwordHash: user.passwordHash },
      data: { passwordHash: await hashPassword(newPassword) },
    });
    if (count !== 1) throw new WrongPasswordError();
    const revoked = await this.deps.sessions.revokeAllOf(user.id, viewer.sessionId);
    await this.audited('PASSWORD_CHANGED', viewer, { sessionsRevoked: revoked });
    return true;
  }

  /** Ends every session of the viewer, this one included; returns how many. */
  async signOutEverywhere(viewer: Viewer): Promise<number> {
    const revoked = await this.deps.sessions.revokeAllOf(viewer.userId);
    await this.audited('SESSIONS_REVOKED', viewer, { count: revoked });
    return revoked;
  }

  /** A user acting on their own account: actor and target are the same user. */
  private audited(action: 'PASSWORD_CHANGED' | 'SESSIONS_REVOKED', viewer: Viewer, detail: Record<string, number>) {
    return this.deps.audit.record({
      action,
      actorId: viewer.userId,
      organizationId: viewer.organizationId,
      targetType: 'User',
      targetId: viewer.userId,
      detail,
    });
  }
}
