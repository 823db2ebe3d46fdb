// Sign-up and sign-in. Errors are deliberately vague where precision would help an attacker: a wrong
// email and a wrong password get the same message, and take about the same time.
import { BadUserInputError, GatewayError, ErrorCode } from '../infra/errors.ts';
import type { Database } from '../db/prisma.ts';
import type { User } from '../generated/prisma/client.ts';
import type { AuditLog } from './audit.ts';
import type { SignInLockout } from './lockout.ts';
import { hashPassword, verifyPassword } from './password.ts';
import type { SessionService } from './sessions.ts';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,189}\.[^\s@]{2,}$/;
export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 200;

/** A real hash to verify against when the email is unknown, so both failures cost the same. */
let decoyHash: Promise<string> | undefined;

export class InvalidCredentialsError extends GatewayError {
  constructor() {
    super('email or password is wrong', ErrorCode.UNAUTHENTICATED);
  }
}

export function normaliseEmail(email: string): string {
  const normalised = email.trim().toLowerCase();
  if (normalised.length > 254 || !EMAIL.test(normalised))
    throw new BadUserInputError('email is not a valid email address', 'email');
  return normalised;
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new BadUserInputError(
      `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
      'password',
    );
  }
}

export interface SignedIn {
  token: string;
  expiresAt: Date;
  user: User;
}

export interface ClientInfo {
  ip: string;
  userAgent: string | undefined;
}

export interface AccountServiceDeps {
  db: Database;
  sessions: SessionService;
  lockout: SignInLockout;
  audit: AuditLog;
}

export class AccountService {
  private readonly db: Database;
  private readonly sessions: SessionService;

  constructor(private readonly deps: AccountServiceDeps) {
    this.db = deps.db;
    this.sessions = deps.sessions;
  }

  /**
   * Creates the account; answers the same (true, after the same password hash) whether or not the email
   * is taken, so sign-up cannot be used to find out who has an account. No session: the client signs in.
   */
  async signUp(input: { email: string; password: string; displayName: string }): Promise<true> {
    const email = normaliseEmail(input.email);
    checkPassword(input.password);
    const displayName = input.displayName.trim();
    if (displayName.length < 1 || displayName.length > 120)
      throw new BadUserInputError('displayName must be 1 to 120 characters', 'displayName');
    const passwordHash = await hashPassword(input.password);
    let user: User;
    try {
      user = await this.db.user.create({ data: { email, passwordHash, displayName } });
    } catch (error) {
      // Taken: the same answer as a new account. (Telling the owner by mail belongs here once mail exists.)
      if ((error as { code?: string }).code === 'P2002') return true;
      throw error;
    }
    await this.deps.audit.record({ action: 'SIGN_UP', actorId: user.id, targetType: 'User', targetId: user.id });
    return true;
  }

  /** Verifies the password; returns the user, or null when the email or the password is wrong. */
  async verify(emailInput: string, password: string): Promise<User | null> {
    const email = normaliseEmail(emailInput);
    if (password.length > MAX_PASSWORD_LENGTH) return null;
    const user = await this.db.user.findUnique({ where: { email } });
    if (!user) {
      decoyHash ??= hashPassword('decoy-password-for-timing');
      await verifyPassword(password, await decoyHash);
      return null;
    }
    return (await verifyPassword(password, user.passwordHash)) ? user : null;
  }

  /**
   * The attempt is charged against the account and the IP before the password is checked, so a locked
   * account refuses even the right password and a concurrent burst gets no more than the limit of tries.
   */
  async signIn(emailInput: string, password: string, client: ClientInfo): Promise<SignedIn> {
    const email = normaliseEmail(emailInput);
    const attempt = { email, ip: client.ip };
    await this.deps.lockout.begin(attempt);
    const user = await this.verify(email, password);
    if (!user) {
      const lockedNow = await this.deps.lockout.failed(attempt);
      const known = await this.db.user.findUnique({ where: { email }, select: { id: true, organizationId: true } });
      await this.deps.audit.record({
        action: 'SIGN_IN_FAILED',
        actorId: known?.id ?? null,
        organizationId: known?.organizationId ?? null,
      });
      if (lockedNow)
        await this.deps.audit.record({
          action: 'LOCKOUT',
          actorId: known?.id ?? null,
          organizationId: known?.organizationId ?? null,
          targetType: 'User',
          ...(known && { targetId: known.id }),
        });
      throw new InvalidCredentialsError();
    }
    await this.deps.lockout.succeeded(attempt);
    await this.deps.audit.record({ action: 'SIGN_IN', actorId: user.id, organizationId: user.organizationId });
    return { user, ...(await this.sessions.create(user, client)) };
  }
}
