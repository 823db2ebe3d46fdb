// Brute-force protection for sign-in (reference 002): after `maxFailures` failed sign-ins for one account
// within the window, the account refuses every sign-in for `lockSeconds` with ACCOUNT_LOCKED, whether or
// not the password is right. Per IP, failures across all accounts are counted too, so one address
// cannot cycle through accounts staying under each account's limit.
import type { RateLimiterRes } from 'rate-limiter-flexible';
import { limiterKey, type Limiter, type LimiterFactory } from '../limits/limiter-factory.ts';
import { ErrorCode, RetryLaterError } from '../server/errors.ts';

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

export type FailureOutcome = { lockedNow: boolean };

export class SignInLockout {
  private readonly accountFailures: Limiter;
  private readonly ipFailures: Limiter;

  constructor(limiters: LimiterFactory, private readonly policy: LockoutPolicy) {
    this.accountFailures = limiters({ name: 'signin-fail-account', points: policy.maxFailures, durationSeconds: policy.windowSeconds });
    this.ipFailures = limiters({ name: 'signin-fail-ip', points: policy.maxFailuresPerIp, durationSeconds: policy.windowSeconds });
  }

  /** Throws when the account is locked or the IP has failed too often; call before checking the password. */
  async assertMayTry(email: string, ip: string): Promise<void> {
    const [account, address] = await Promise.all([this.accountFailures.get(limiterKey(email)), this.ipFailures.get(limiterKey(ip))]);
    if (account && account.consumedPoints >= this.policy.maxFailures) throw new AccountLockedError(secondsLeft(account));
    if (address && address.consumedPoints >= this.policy.maxFailuresPerIp) throw new TooManyAttemptsError(secondsLeft(address));
  }

  /** Counts a failure; locks the account when it reaches the limit. */
  async recordFailure(email: string, ip: string): Promise<FailureOutcome> {
    const [account, address] = await Promise.all([this.accountFailures.penalty(limiterKey(email), 1), this.ipFailures.penalty(limiterKey(ip), 1)]);
    if (address.consumedPoints >= this.policy.maxFailuresPerIp) await this.ipFailures.block(limiterKey(ip), this.policy.lockSeconds);
    if (account.consumedPoints === this.policy.maxFailures) {
      await this.accountFailures.block(limiterKey(email), this.policy.lockSeconds);
      return { lockedNow: true };
    }
    return { lockedNow: false };
  }

  /** A successful sign-in clears the account's failures (not the IP's). */
  async recordSuccess(email: string): Promise<void> {
    await this.accountFailures.delete(limiterKey(email));
  }
}
