// A circuit breaker in front of Redis: Redis is optional at run time (docs/ARCHITECTURE.md).
//
// Why our own rather than a generic breaker library: generic breakers (cockatiel, opossum) let a live
// request through as the half-open probe. Here no user request is ever the probe: while the circuit is
// open every call fails at once and a background timer PINGs Redis; the first PING that answers closes
// the circuit. Listeners learn of each transition (metrics; replaying invalidations on recovery).
import { EventEmitter } from 'node:events';
import type { Logger } from '../infra/logger.ts';
import type { ChainableCommander } from 'ioredis';
import type { Redis } from './connection.ts';

export type CircuitState = 'closed' | 'open';

export class RedisUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('redis unavailable', { cause });
    this.name = 'RedisUnavailableError';
  }
}

export interface RedisCircuitOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold?: number;
  /** How often the background probe PINGs while open. */
  probeIntervalMs?: number;
  logger: Logger;
}

export class RedisCircuit extends EventEmitter<{ state: [CircuitState]; failure: [operation: string] }> {
  private stateValue: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly failureThreshold: number;
  private readonly probeIntervalMs: number;
  private readonly log: Logger;

  constructor(
    readonly redis: Redis,
    options: RedisCircuitOptions,
  ) {
    super();
    this.failureThreshold = options.failureThreshold ?? 3;
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    this.log = options.logger.child({ component: 'redis-circuit' });
    // A dropped connection is certain failure: open now rather than after `failureThreshold` requests fail.
    redis.on('close', this.onClose);
    if (redis.status !== 'ready') this.open('not connected yet');
  }

  get state(): CircuitState {
    return this.stateValue;
  }

  /**
   * Runs a Redis operation, or throws RedisUnavailableError at once while the circuit is open. An Error
   * thrown by the operation counts as a failure; any other rejection (rate-limiter-flexible's "over the
   * limit" answer, say) is an answer from a healthy Redis and passes through untouched.
   */
  async run<T>(operation: (redis: Redis) => Promise<T>): Promise<T> {
    if (this.stateValue === 'open') throw new RedisUnavailableError();
    let result: T;
    try {
      result = await operation(this.redis);
    } catch (error) {
      if (!(error instanceof Error)) {
        this.consecutiveFailures = 0;
        throw error;
      }
      this.recordFailure(error.message);
      throw new RedisUnavailableError(error);
    }
    this.consecutiveFailures = 0;
    return result;
  }

  /**
   * The one way the request path uses Redis: runs the operation through the circuit and, should Redis
   * fail or be away, reports the failure under `operation` (a metric label) and answers `fallback()`
   * instead. Rejections that are answers (see run) pass through.
   */
  async attempt<T>(run: (redis: Redis) => Promise<T>, operation: string, fallback: () => T | Promise<T>): Promise<T> {
    try {
      return await this.run(run);
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      this.reportFailure(operation);
      return await fallback();
    }
  }

  /** Tells listeners (the composition root counts them) that an operation could not reach Redis. */
  reportFailure(operation: string): void {
    this.emit('failure', operation);
  }

  private recordFailure(reason: string): void {
    this.consecutiveFailures += 1;
    if (this.consecutiveFailures >= this.failureThreshold) this.open(reason);
  }

  private readonly onClose = (): void => this.open('connection closed');

  /** Stops the background probe and stops listening (shutdown: the connection's own close is expected). */
  dispose(): void {
    this.redis.off('close', this.onClose);
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
  }

  private open(reason: string): void {
    if (this.stateValue === 'open') return;
    this.stateValue = 'open';
    this.log.warn({ reason }, 'redis circuit open: serving from L1 and PostgreSQL');
    this.emit('state', 'open');
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    if (this.redis.status !== 'ready') return; // ioredis is still reconnecting by itself
    try {
      await this.redis.ping();
    } catch {
      return;
    }
    if (this.stateValue === 'closed') return;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.consecutiveFailures = 0;
    this.stateValue = 'closed';
    this.log.info('redis circuit closed: redis answers again');
    this.emit('state', 'closed');
  }
}

/**
 * Runs a pipeline (or MULTI) built by `build`. ioredis resolves exec() even when commands inside failed
 * (a timeout, say) and puts the errors in the result; here any such error is thrown, so inside the
 * circuit a hung Redis opens it instead of passing for healthy.
 */
export async function execPipeline(
  redis: Redis,
  build: (pipeline: ChainableCommander) => void,
  transaction = false,
): Promise<unknown[]> {
  const pipeline = transaction ? redis.multi() : redis.pipeline();
  build(pipeline);
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error !== null);
  if (failed) throw failed[0];
  return results.map(([, value]) => value);
}
