// Password resets by mail. A request answers the same whether or not the email has an account, and sends
// the mail in the background, so neither the answer nor its timing says which. The token is 32 random
// bytes, shown once in the mail; only its SHA-256 is stored. It works once, for a short time, and a newer
// request supersedes it. A reset ends every session of the user.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import { checkPassword, normaliseEmail } from './account-service.ts';
import { InvalidResetTokenError } from './account-errors.ts';
import type { AuditLog } from './audit.ts';
import type { Mailer } from './mailer.ts';
import { hashPassword } from './password.ts';
import { hashToken, type SessionService } from './sessions.ts';

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

export interface PasswordResetDeps {
  db: Database;
  sessions: SessionService;
  audit: AuditLog;
  mailer: Mailer;
  logger: Logger;
  ttlSeconds: number;
  /** The page that takes the token; the mail links to `<url>?token=…`. */
  resetUrl: string;
}

export class PasswordResetService {
  /** Deliveries still under way (stop() waits for them). */
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: PasswordResetDeps) {}

  /** Always true once the email is well-formed: the answer never tells whether it has an account. */
  async request(emailInput: string): Promise<true> {
    const email = normaliseEmail(emailInput);
    const delivery = this.issue(email).catch((error: unknown) =>
      this.deps.logger.error({ err: error }, 'password reset mail could not be sent'),
    );
    this.pending.add(delivery);
    void delivery.finally(() => this.pending.delete(delivery));
    return true;
  }

  private async issue(email: string): Promise<void> {
    const user = await this.deps.db.user.findUnique({ where: { email }, select: { id: true, organizationId: true } });
    if (!user) return;
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    // Earlier unused tokens stop working: only the newest mail's link resets.
    await this.deps.db.$transaction([
      this.deps.db.passwordResetToken.updateMany({ where: { userId: user.id, usedAt: null }, data: { usedAt: now } }),
      this.deps.db.passwordResetToken.create({
        data: {
          userId: user.id,
          tokenHash: hashToken(token),
          expiresAt: new Date(now.getTime() + this.deps.ttlSeconds * 1000),
        },
      }),
    ]);
    await this.deps.audit.record({
      action: 'PASSWORD_RESET_REQUESTED',
      actorId: user.id,
      organizationId: user.organizationId,
    });
    const link = new URL(this.deps.resetUrl);
    link.searchParams.set('token', token);
    const minutes = Math.round(this.deps.ttlSeconds / 60);
    await this.deps.mailer.send({
      to: email,
      subject: 'Reset your cachegate password',
      text:
        `Someone asked to reset the password of this account. If it was you, open this link within ` +
        `${minutes} minutes:\n\n${link.toString()}\n\nThe reset token is: ${token}\n\n` +
        `If it was not you, ignore this mail: your password stays as it is.\n`,
    });
  }

  /** Sets a new password with a token from a reset mail; the token is used up and every session ends. */
  async reset(token: string, newPassword: string): Promise<true> {
    if (!TOKEN_FORMAT.test(token)) throw new InvalidResetTokenError();
    checkPassword(newPassword);
    const passwordHash = await hashPassword(newPassword);
    const now = new Date();
    // Claimed and used in one statement: of two concurrent resets with one token, one wins.
    const claimed = await this.deps.db.passwordResetToken.updateManyAndReturn({
      where: { tokenHash: hashToken(token), usedAt: null, expiresAt: { gt: now } },
      data: { usedAt: now },
      select: { userId: true },
    });
    const userId = claimed[0]?.userId;
    if (!userId) throw new InvalidResetTokenError();
    const user = await this.deps.db.user.update({
      where: { id: userId },
      data: { passwordHash },
      select: { organizationId: true },
    });
    const revoked = await this.deps.sessions.revokeAllOf(userId);
    await this.deps.audit.record({
      action: 'PASSWORD_RESET',
      actorId: userId,
      organizationId: user.organizationId,
      targetType: 'User',
      targetId: userId,
      detail: { sessionsRevoked: revoked },
    });
    return true;
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    this.deps.mailer.close();
  }
}
