// Counters for rate limits and lockouts, from rate-limiter-flexible: in Redis (shared by every instance)
// with an in-memory insurance limiter that takes over while Redis is down, or in memory only without
// REDIS_URL. Keys never hold personal data: emails and IPs are hashed first (ARCHITECTURE rule 7).
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from '../redis/connection.ts';

export type Limiter = RateLimiterAbstract;

export interface LimiterSpec {
  /** Names the counter in Redis: <prefix>:rl:<name>:<hashed key>. */
  name: string;
  points: number;
  durationSeconds: number;
  /** Once consumed beyond `points`, refuse for this long (rate-limiter-flexible's blockDuration). */
  blockSeconds?: number;
}

export type LimiterFactory = (spec: LimiterSpec) => Limiter;

export function createLimiterFactory(redis: Redis | undefined, prefix: string): LimiterFactory {
  return (spec) => {
    const options = { points: spec.points, duration: spec.durationSeconds, blockDuration: spec.blockSeconds ?? 0, keyPrefix: `${prefix}:rl:${spec.name}` };
    if (!redis) return new RateLimiterMemory(options);
    return new RateLimiterRedis({
      ...options,
      storeClient: redis,
      // Never wait on a dead Redis: fall straight through to the per-instance insurance counters.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(options),
    });
  };
}

/** A short, non-reversible key for an email or an IP address. */
export function limiterKey(value: string): string {
  return createHash('sha256').update(value).digest('base64url').slice(0, 22);
}
