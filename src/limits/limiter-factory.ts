// Counters for rate limits and lockouts, from rate-limiter-flexible: in Redis (shared by every instance)
// when it is up, in this instance's memory while the Redis circuit is open or without REDIS_URL. Keys
// never hold personal data: emails and IPs are keyed-hashed first (docs/ARCHITECTURE.md, the rules).
import { createHmac } from 'node:crypto';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
  type RateLimiterRes,
} from 'rate-limiter-flexible';
import { RedisUnavailableError, type RedisCircuit } from '../redis/circuit-breaker.ts';

/** The part of rate-limiter-flexible's API the gateway uses. */
export interface Limiter {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
  penalty(key: string, points?: number): Promise<RateLimiterRes>;
  reward(key: string, points?: number): Promise<RateLimiterRes>;
  get(key: string): Promise<RateLimiterRes | null>;
  block(key: string, seconds: number): Promise<RateLimiterRes>;
  delete(key: string): Promise<boolean>;
}

export interface LimiterSpec {
  /** Names the counter in Redis: <prefix>:rl:<name>:<hashed key>. */
  name: string;
  points: number;
  durationSeconds: number;
  /** 'instance': counted in this instance's memory only, with no Redis round trip (for hot paths). */
  scope?: 'global' | 'instance';
}

export type LimiterFactory = (spec: LimiterSpec) => Limiter;

/**
 * Goes through the Redis circuit, so a dead or hung Redis costs nothing: while the circuit is open the
 * memory limiter answers at once, and Redis failures count towards opening it. (rate-limiter-flexible's
 * own insuranceLimiter would wait for each command to time out on a hung Redis first.)
 */
class CircuitAwareLimiter implements Limiter {
  constructor(
    private readonly redis: RateLimiterAbstract,
    private readonly memory: RateLimiterAbstract,
    private readonly circuit: RedisCircuit,
  ) {}

  private async call<T>(use: (limiter: RateLimiterAbstract) => Promise<T>): Promise<T> {
    if (this.circuit.state === 'open') return use(this.memory);
    try {
      return await this.circuit.run(() => use(this.redis));
    } catch (error) {
      if (error instanceof RedisUnavailableError) return use(this.memory);
      throw error; // "over the limit" (a RateLimiterRes): an answer, not a failure
    }
  }

  consume(key: string, points = 1) {
    return this.call((l) => l.consume(key, points));
  }
  penalty(key: string, points = 1) {
    return this.call((l) => l.penalty(key, points));
  }
  reward(key: string, points = 1) {
    return this.call((l) => l.reward(key, points));
  }
  get(key: string) {
    return this.call((l) => l.get(key));
  }
  block(key: string, seconds: number) {
    return this.call((l) => l.block(key, seconds));
  }
  delete(key: string) {
    return this.call((l) => l.delete(key));
  }
}

/**
 * Callers count by email, IP or user id; what reaches a store is an HMAC of it with KEY_HASH_SECRET, so
 * a copy of Redis cannot be reversed by hashing a list of known emails. Every instance needs the same
 * secret for the counters to be shared.
 */
class HashedKeys implements Limiter {
  constructor(
    private readonly inner: Limiter,
    private readonly secret: string,
  ) {}

  private hash(value: string): string {
    return createHmac('sha256', this.secret).update(value).digest('base64url').slice(0, 22);
  }

  consume(key: string, points?: number) {
    return this.inner.consume(this.hash(key), points);
  }
  penalty(key: string, points?: number) {
    return this.inner.penalty(this.hash(key), points);
  }
  reward(key: string, points?: number) {
    return this.inner.reward(this.hash(key), points);
  }
  get(key: string) {
    return this.inner.get(this.hash(key));
  }
  block(key: string, seconds: number) {
    return this.inner.block(this.hash(key), seconds);
  }
  delete(key: string) {
    return this.inner.delete(this.hash(key));
  }
}

/** Without Redis, in a worker of several: counters kept by the primary for all of them (src/server/cluster.ts). */
export type SharedMemoryLimiter = (options: { points: number; duration: number; keyPrefix: string }) => Limiter;

export function createLimiterFactory(
  circuit: RedisCircuit | undefined,
  prefix: string,
  keySecret: string,
  sharedMemory?: SharedMemoryLimiter,
): LimiterFactory {
  return (spec) => {
    const options = { points: spec.points, duration: spec.durationSeconds, keyPrefix: `${prefix}:rl:${spec.name}` };
    const memory = new RateLimiterMemory(options);
    // Counters kept only in this process's memory are never stored anywhere: no need to pay for a hash
    // on every request (reads are the hot path).
    if (spec.scope === 'instance') return memory;
    const limiter = circuit
      ? new CircuitAwareLimiter(new RateLimiterRedis({ ...options, storeClient: circuit.redis }), memory, circuit)
      : (sharedMemory?.(options) ?? memory);
    return new HashedKeys(limiter, keySecret);
  };
}
