// A worker's side of running several gateway processes on one port (src/server/cluster.ts is the
// primary's). Without Redis the primary is what the workers share: it relays the event bus, keeps the
// rate-limit counters (rate-limiter-flexible's cluster limiters) and adds up the workers' metrics.
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { RateLimiterCluster, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { createRelayedBus, type EventBus } from '../realtime/event-bus.ts';
import type { MetricsSource } from './http-server.ts';

export const METRICS_CHANNEL = 'cachegate:metrics';
export const READY_CHANNEL = 'cachegate:ready';
/** What the primary sends a worker to start its graceful shutdown (a signal could be its second one). */
export const DRAIN_CHANNEL = 'cachegate:drain';
const METRICS_TIMEOUT_MS = 5_000;

export interface MetricsRequest {
  channel: typeof METRICS_CHANNEL;
  id: string;
}

export interface MetricsReply extends MetricsRequest {
  text?: string;
  error?: string;
}

export interface WorkerLink {
  /** node:cluster's worker id: 1, 2, … (a replaced worker gets a new one). */
  id: number;
  /** The event bus, relayed to the other workers by the primary (used without REDIS_URL). */
  createBus(): EventBus;
  /** A rate-limit counter kept by the primary for every worker (used without REDIS_URL). */
  createLimiter(options: { points: number; duration: number; keyPrefix: string }): RateLimiterAbstract;
  /** /metrics of the whole set: the primary asks every worker for its registry and adds them up. */
  metricsOf(registry: Registry): MetricsSource;
  /** Tells the primary this worker serves. */
  ready(): void;
  /** Calls `drain` when the primary asks for a shutdown, or is gone (a worker never outlives it). */
  onDrain(drain: (reason: string) => void): void;
}

/** In a cluster worker: the link to the primary; otherwise undefined (one process, nothing to share). */
export function joinCluster(): WorkerLink | undefined {
  const worker = cluster.worker;
  if (!cluster.isWorker || !worker) return undefined;
  const send = (message: unknown): void => {
    if (process.connected) process.send?.(message, undefined, {}, () => undefined);
  };
  return {
    id: worker.id,
    createBus: () => createRelayedBus(process),
    createLimiter: (options) => new RateLimiterCluster({ ...options, timeoutMs: 2_000 }),
    metricsOf(registry) {
      // prom-client answers the primary's requests from the registries named here.
      AggregatorRegistry.setRegistries([registry]);
      new AggregatorRegistry();
      return { contentType: registry.contentType, metrics: () => askPrimaryForMetrics(send) };
    },
    ready: () => send({ channel: READY_CHANNEL }),
    onDrain(drain) {
      process.on('message', (message: { channel?: string } | null) => {
        if (message?.channel === DRAIN_CHANNEL) drain('asked by the primary');
      });
      process.once('disconnect', () => drain('the primary is gone'));
    },
  };
}

function askPrimaryForMetrics(send: (message: MetricsRequest) => void): Promise<string> {
  const id = randomUUID();
  return new Promise((resolve, reject) => {
    const onMessage = (message: MetricsReply): void => {
      if (message?.channel !== METRICS_CHANNEL || message.id !== id) return;
      done();
      if (message.text !== undefined) resolve(message.text);
      else reject(new Error(message.error ?? 'no metrics from the primary'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error('the primary did not answer for metrics'));
    }, METRICS_TIMEOUT_MS);
    const done = (): void => {
      clearTimeout(timer);
      process.off('message', onMessage);
    };
    process.on('message', onMessage);
    send({ channel: METRICS_CHANNEL, id });
  });
}
