// Sign-up and sign-in. Errors are deliberately vague where precision would help an attacker: a wrong
// email and a wrong password get the same message, and take about the same time.
import { BadUserInputError, GatewayError, ErrorCode } from '../server/errors.ts';
import type { Database } from '../db/prisma.ts';
import type { User } from '../generated/prisma/client.ts';
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
  if (normalised.length > 254 || !EMAIL.test(normalised)) throw new BadUserInputError('email is not a valid email address', 'email');
  return normalised;
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new BadUserInputError(`password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`, 'password');
  }
}

export interface SignedIn {
  token: string;
  expiresAt: Date;
  user: User;
}

export class AccountService {
  constructor(private readonly db: Database, private readonly sessions: SessionService) {}

  async signUp(input: { email: string; password: string; displayName: string }, userAgent?: string): Promise<SignedIn> {
    const email = normaliseEmail(input.email);
    checkPassword(input.password);
    const displayName = input.displayName.trim();
    if (displayName.length < 1 || displayName.length > 120) throw new BadUserInputError('displayName must be 1 to 120 characters', 'displayName');
    const passwordHash = await hashPassword(input.password);
    let user: User;
    try {
      user = await this.db.user.create({ data: { email, passwordHash, displayName } });
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') throw new GatewayError('an account with this email already exists', ErrorCode.CONFLICT);
      throw error;
    }
    return { user, ...(await this.sessions.create(user, userAgent)) };
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

  async signIn(emailInput: string, password: string, userAgent?: string): Promise<SignedIn> {
    const user = await this.verify(emailInput, password);
    if (!user) throw new InvalidCredentialsError();
    return { user, ...(await this.sessions.create(user, userAgent)) };
  }
}
