// A circuit breaker in front of Redis: Redis is optional at run time (docs/ARCHITECTURE.md).
//
// Why our own rather than a generic breaker library: generic breakers (cockatiel, opossum) let a live
// request through as the half-open probe. Here no user request is ever the probe: while the circuit is
// open every call fails at once and a background timer PINGs Redis; the first PING that answers closes
// the circuit. Listeners learn of each transition (metrics; replaying invalidations on recovery).
//
// A Redis that answers, but slowly, fails nothing, so failure counting never opens the circuit. A latency
// watch does: a PING at a fixed interval, judged slow only when the event loop was not itself stalled while
// it waited (docs/ARCHITECTURE.md "A slow Redis"). Timing callers instead would blame Redis for the
// gateway's own queueing under load.
import { EventEmitter } from 'node:events';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from '../infra/logger.ts';
import type { ChainableCommander } from 'ioredis';
import type { Cluster, Redis } from './connection.ts';
import { watchFailovers } from './failover-watch.ts';
import { ClusterNodeGuard } from './node-guard.ts';
import { isCluster } from './slots.ts';

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
  /** A PING slower than this (event-loop stalls discounted) is a slow probe. */
  slowPingMs?: number;
  /** How often the latency watch PINGs while closed. */
  watchIntervalMs?: number;
  /** Consecutive slow probes that open the circuit. */
  slowProbesToOpen?: number;
  /** Consecutive fast probes that close a circuit opened for slowness (one suffices after a failure). */
  fastProbesToClose?: number;
  /** On a cluster: how often a node marked down is probed (node-guard.ts). */
  nodeProbeIntervalMs?: number;
  logger: Logger;
}

type ProbeVerdict = 'fast' | 'slow' | 'unknown' | 'failed';

/**
 * `state`: each transition. `recovered`: Redis can be used again where it could not: the circuit closed, or
 * a cluster node that was down came back (its slots moved to a replica, or it answers). Whatever could not
 * reach Redis meanwhile catches up then. `failover`: on a cluster, replicas were promoted (failover-watch.ts):
 * what Redis holds may lack writes the old masters acknowledged.
 */
export class RedisCircuit extends EventEmitter<{
  state: [CircuitState];
  failure: [operation: string];
  recovered: [];
  failover: [promoted: string[]];
}> {
  private stateValue: CircuitState = 'closed';
  private consecutiveFailures = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly failureThreshold: number;
  private readonly probeIntervalMs: number;
  private readonly log: Logger;
  private readonly slowPingMs: number;
  private readonly watchIntervalMs: number;
  private readonly slowProbesToOpen: number;
  private readonly fastProbesToClose: number;
  private readonly loopDelay: IntervalHistogram;
  private watchTimer: NodeJS.Timeout | undefined;
  private consecutiveSlow = 0;
  private consecutiveFast = 0;
  /** Fast probes needed to close now: more after a slow-open, so a Redis at the threshold does not flap. */
  private probesToClose = 1;
  private probing = false;
  private disposed = false;
  /** On a cluster: fails commands for a dead master's slots at once, without opening for every slot. */
  private readonly nodeGuard: ClusterNodeGuard | undefined;
  private unwatchFailovers: (() => void) | undefined;

  constructor(
    readonly redis: Redis,
    options: RedisCircuitOptions,
  ) {
    super();
    this.failureThreshold = options.failureThreshold ?? 3;
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    this.log = options.logger.child({ component: 'redis-circuit' });
    this.slowPingMs = options.slowPingMs ?? 300;
    this.watchIntervalMs = options.watchIntervalMs ?? 100;
    this.slowProbesToOpen = options.slowProbesToOpen ?? 2;
    this.fastProbesToClose = options.fastProbesToClose ?? 3;
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    // A dropped connection is certain failure: open now rather than after `failureThreshold` requests fail.
    redis.on('close', this.onClose);
    if (isCluster(redis)) {
      this.nodeGuard = new ClusterNodeGuard(redis, options.nodeProbeIntervalMs ?? 250, this.log);
      this.nodeGuard.on('recovered', () => {
        if (this.stateValue === 'closed') this.emit('recovered');
      });
      this.unwatchFailovers = watchFailovers(redis, (promoted) => {
        this.log.warn({ promoted }, 'redis cluster failover: cached values it may have lost are dropped');
        this.emit('failover', promoted);
      });
    }
    if (redis.status !== 'ready') this.open('not connected yet');
    this.scheduleWatch();
  }

  get state(): CircuitState {
    return this.stateValue;
  }

  /** On a cluster: the nodes (host:port) whose slots are refused right now (node-guard.ts). */
  get nodesDown(): string[] {
    return this.nodeGuard?.downNodes ?? [];
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
      // A cluster node's own fault is that node's: its slots fail fast now, the others keep Redis.
      if (!this.nodeGuard?.charges(error)) this.recordFailure(error.message);
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
    clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
    this.nodeGuard?.dispose();
    this.unwatchFailovers?.();
    this.disposed = true;
    this.loopDelay.disable();
  }

  private open(reason: string, probesToClose = 1): void {
    if (this.stateValue === 'open') return;
    this.stateValue = 'open';
    this.probesToClose = probesToClose;
    this.consecutiveFast = 0;
    this.log.warn({ reason }, 'redis circuit open: serving from L1 and PostgreSQL');
    this.emit('state', 'open');
    this.probeTimer = setInterval(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  /**
   * While open: after a failure, the first PING that answers closes the circuit; after a slow-open, only
   * `fastProbesToClose` fast PINGs in a row do.
   */
  private async probe(): Promise<void> {
    if (this.redis.status !== 'ready') return; // ioredis is still reconnecting by itself
    if (this.probesToClose > 1) {
      const verdict = await this.timePing();
      if (verdict === 'unknown') return;
      this.consecutiveFast = verdict === 'fast' ? this.consecutiveFast + 1 : 0;
      if (this.consecutiveFast < this.probesToClose) return;
    } else {
      try {
        await this.redis.ping();
      } catch {
        return;
      }
    }
    if (this.stateValue === 'closed') return;
    clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.consecutiveFailures = 0;
    this.consecutiveSlow = 0;
    this.stateValue = 'closed';
    this.log.info('redis circuit closed: redis answers again');
    this.emit('state', 'closed');
    this.emit('recovered');
  }

  /** While closed: a latency watch, one PING at a time, that opens the circuit on slow PINGs in a row. */
  private scheduleWatch(): void {
    if (this.disposed) return;
    this.watchTimer = setTimeout(() => void this.watch(), this.watchIntervalMs);
    this.watchTimer.unref();
  }

  private async watch(): Promise<void> {
    try {
      if (this.stateValue !== 'closed' || this.redis.status !== 'ready') {
        this.consecutiveSlow = 0;
        return;
      }
      const verdict = await this.timePing();
      if (verdict === 'unknown' || this.stateValue !== 'closed') return;
      this.consecutiveSlow = verdict === 'slow' ? this.consecutiveSlow + 1 : 0;
      if (this.consecutiveSlow >= this.slowProbesToOpen) {
        this.open(`redis slow: ${this.consecutiveSlow} PINGs over ${this.slowPingMs} ms`, this.fastProbesToClose);
      }
    } finally {
      this.scheduleWatch();
    }
  }

  /**
   * PINGs and judges the answer time. Slow only if no answer came within `slowPingMs` while the event loop
   * never stalled for half of that: a stalled loop could have held back an answer that had arrived, so the
   * probe then proves nothing ('unknown'). Settles at the deadline without waiting for a slow answer.
   */
  private timePing(): Promise<ProbeVerdict> {
    if (this.probing) return Promise.resolve('unknown');
    this.probing = true;
    this.loopDelay.reset();
    const sentAt = performance.now();
    return new Promise<ProbeVerdict>((resolve) => {
      const deadline = setTimeout(() => {
        const timerLateMs = performance.now() - sentAt - this.slowPingMs;
        const stalledMs = Math.max(timerLateMs, this.loopDelay.max / 1e6);
        resolve(stalledMs < this.slowPingMs / 2 ? 'slow' : 'unknown');
      }, this.slowPingMs);
      deadline.unref();
      this.redis.ping().then(
        () => {
          clearTimeout(deadline);
          resolve('fast');
        },
        () => {
          clearTimeout(deadline);
          resolve('failed');
        },
      );
    }).finally(() => {
      this.probing = false;
    });
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
  if (!transaction && isCluster(redis)) return execAcrossSlots(redis, build);
  // A MULTI is one slot by construction (its callers touch one key or one hash tag).
  const pipeline = transaction ? redis.multi() : redis.pipeline();
  build(pipeline);
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error !== null);
  if (failed) throw failed[0];
  return results.map(([, value]) => value);
}

/**
 * A cluster pipeline must stay within one node, but a built pipeline may span slots: the commands are
 * recorded and each is sent on its own, routed by ioredis to its slot's node, all at once: they still
 * share each node's socket without waiting for each other (docs/ARCHITECTURE.md "Redis topologies").
 */
function execAcrossSlots(redis: Cluster, build: (pipeline: ChainableCommander) => void): Promise<unknown[]> {
  const calls: [string, unknown[]][] = [];
  const recorder: ChainableCommander = new Proxy({} as ChainableCommander, {
    get:
      (_target, name) =>
      (...args: unknown[]) => {
        calls.push([String(name), args]);
        return recorder;
      },
  });
  build(recorder);
  const commands = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  return Promise.all(calls.map(([name, args]) => commands[name]!.apply(redis, args)));
}
