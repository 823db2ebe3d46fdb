// Brute-force protection for sign-in. Failures are counted per account AND source address: after
// `maxFailures` failed sign-ins for one account from one address within the window, that address gets
// ACCOUNT_LOCKED for that account for `lockSeconds`, even with the right password. The owner signing in
// from their own address is not locked out by someone guessing from elsewhere, so the lockout cannot
// be turned against an account. Per address, failures across all accounts are counted too, so one
// address cannot cycle through accounts staying under each account's limit.
import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { Limiter, LimiterFactory } from '../limits/limiter-factory.ts';
import { ErrorCode, RetryLaterError } from '../infra/errors.ts';

export interface LockoutPolicy {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
  /** Failed sign-ins one IP may make (over all accounts) per window before it is refused. */
  maxFailuresPerIp: number;
}

export class AccountLockedError extends RetryLaterError {
  constructor(retryAfterSeconds: number) {
    super('too many failed sign-ins: this account is locked for now', retryAfterSeconds, ErrorCode.ACCOUNT_LOCKED);
  }
}

export class TooManyAttemptsError extends RetryLaterError {
  constructor(retryAfterSeconds: number) {
    super('too many failed sign-ins from this address: try again later', retryAfterSeconds);
  }
}

function secondsLeft(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

export interface Attempt {
  email: string;
  ip: string;
}

/** The account-and-source key (hashed before it is stored, like every limiter key). */
function accountAtSource(attempt: Attempt): string {
  return `${attempt.email}\n${attempt.ip}`;
}

/**
 * Each attempt is charged BEFORE the password is checked, with one atomic increment per counter: a burst
 * of concurrent attempts cannot all pass a check made before any of them was counted. Success hands the
 * charge back; a failure keeps it.
 */
export class SignInLockout {
  private readonly accountFailures: Limiter;
  private readonly ipFailures: Limiter;

  constructor(
    limiters: LimiterFactory,
    private readonly policy: LockoutPolicy,
  ) {
    this.accountFailures = limiters({
      name: 'signin-fail-account',
      points: policy.maxFailures,
      durationSeconds: policy.windowSeconds,
    });
    this.ipFailures = limiters({
      name: 'signin-fail-ip',
      points: policy.maxFailuresPerIp,
      durationSeconds: policy.windowSeconds,
    });
  }

  /**
   * Charges the attempt; throws ACCOUNT_LOCKED / RATE_LIMITED when it is over a limit (and uncharges
   * nothing: refused attempts count).
   */
  async begin(attempt: Attempt): Promise<void> {
    const [account, address] = await Promise.all([
      this.accountFailures.penalty(accountAtSource(attempt), 1),
      this.ipFailures.penalty(attempt.ip, 1),
    ]);
    if (account.consumedPoints > this.policy.maxFailures) throw new AccountLockedError(secondsLeft(account));
    if (address.consumedPoints > this.policy.maxFailuresPerIp) throw new TooManyAttemptsError(secondsLeft(address));
  }

  /** The password was wrong: the charge stays. Returns true when this failure locked the account. */
  async failed(attempt: Attempt): Promise<boolean> {
    const account = await this.accountFailures.get(accountAtSource(attempt));
    const address = await this.ipFailures.get(attempt.ip);
    if (address && address.consumedPoints >= this.policy.maxFailuresPerIp)
      await this.ipFailures.block(attempt.ip, this.policy.lockSeconds);
    if (account && account.consumedPoints >= this.policy.maxFailures) {
      await this.accountFailures.block(accountAtSource(attempt), this.policy.lockSeconds);
      return true;
    }
    return false;
  }

  /** The password was right: the account's failures from this source are forgiven, the IP gets its charge back. */
  async succeeded(attempt: Attempt): Promise<void> {
    await Promise.all([this.accountFailures.delete(accountAtSource(attempt)), this.ipFailures.reward(attempt.ip, 1)]);
  }
}
