// The primary of several gateway processes on one port (WORKERS > 1), with node:cluster. It serves no
// request itself: it prepares the database once (starting the embedded PostgreSQL when there is no
// DATABASE_URL, migrating, seeding) and forks the workers, each a whole gateway (app.ts). Without Redis
// it is what the workers share: it relays their event bus and keeps their rate-limit counters. It adds up
// their metrics, replaces a worker that dies (backing off when they keep dying), and on shutdown drains
// every worker and exits when the last is gone. See docs/ARCHITECTURE.md, "Workers and instances".
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import type { Config } from '../config.ts';
import type { Logger } from '../infra/logger.ts';
import { isRelayedMessage, PEERS_CHANNEL } from '../realtime/event-bus.ts';
import { prepareDatabase } from './app.ts';
import {
  DRAIN_CHANNEL,
  METRICS_CHANNEL,
  READY_CHANNEL,
  type MetricsReply,
  type MetricsRequest,
} from './cluster-worker.ts';

/** A worker that lived this long before dying was not crash-looping: its replacement starts at once. */
const STABLE_AFTER_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

export interface Primary {
  logger: Logger;
  /** Drains every worker, waits for them to exit, then closes what the primary started. */
  stop(): Promise<void>;
}

export async function startPrimary(config: Config, logger: Logger): Promise<Primary> {
  const closers: (() => unknown)[] = [];
  const database = await prepareDatabase(config, logger, closers);
  // The workers get the database ready-made: no migration or seeding race between them.
  const workerEnv = { DATABASE_URL: database.url, SEED_ON_EMPTY: 'false' };
  if (!config.redisUrl) new RateLimiterClusterMaster();
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (from: Worker, message: unknown) => {
    if (isRelayedMessage(message)) {
      for (const worker of Object.values(cluster.workers ?? {}))
        if (worker && worker !== from && worker.isConnected()) worker.send(message);
    } else if ((message as MetricsRequest | null)?.channel === METRICS_CHANNEL) {
      const { id } = message as MetricsRequest;
      const reply = (answer: Omit<MetricsReply, 'channel' | 'id'>): void => {
        if (from.isConnected()) from.send({ channel: METRICS_CHANNEL, id, ...answer } satisfies MetricsReply);
      };
      aggregator.clusterMetrics().then(
        (text) => reply({ text }),
        (error: unknown) => reply({ error: String(error) }),
      );
    }
  });

  // Serving workers: each waits for the others' acknowledgements of its invalidations.
  const serving = new Set<Worker>();
  const announcePeers = (): void => {
    for (const worker of serving)
      if (worker.isConnected()) worker.send({ channel: PEERS_CHANNEL, workers: serving.size });
  };
  cluster.on('message', (worker: Worker, message: unknown) => {
    if ((message as { channel?: string } | null)?.channel !== READY_CHANNEL) return;
    serving.add(worker);
    announcePeers();
  });
  cluster.on('exit', (worker) => {
    if (serving.delete(worker)) announcePeers();
  });
  cluster.on('fork', (worker) => {
    worker.on('error', (error: unknown) => logger.warn({ err: error, worker: worker.id }, 'worker channel error'));
  });

  let stopping = false;
  let quickDeaths = 0;
  const startedAt = new Map<Worker, number>();
  const fork = (): Worker => {
    const worker = cluster.fork(workerEnv);
    startedAt.set(worker, Date.now());
    return worker;
  };
  const replace = (worker: Worker, code: number | null, signal: string | null): void => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    quickDeaths = lived >= STABLE_AFTER_MS ? 0 : quickDeaths + 1;
    const delayMs = quickDeaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 500 * 2 ** (quickDeaths - 2));
    logger.error({ worker: worker.id, code, signal, livedMs: lived, delayMs }, 'worker died: starting a replacement');
    setTimeout(() => {
      if (!stopping) fork();
    }, delayMs).unref();
  };

  // Start-up: every worker ready, or the first one that exits before it is stops the whole start.
  const first = Array.from({ length: config.workers }, fork);
  try {
    await Promise.all(first.map((worker) => readyOrExit(worker)));
  } catch (error) {
    stopping = true;
    await drain(first, config.shutdownTimeoutMs);
    for (const close of closers.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
    throw error;
  }
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) replace(worker, code, signal);
  });
  logger.info({ workers: config.workers, port: config.port }, 'cachegate workers ready');

  let stopped: Promise<void> | undefined;
  return {
    logger,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
        logger.info({ workers: workers.length }, 'shutting down: draining every worker');
        await drain(workers, config.shutdownTimeoutMs);
        for (const close of closers.reverse())
          await Promise.resolve()
            .then(close)
            .catch((error: unknown) => logger.warn({ err: error }, 'error while closing'));
        logger.info('shutdown complete');
      })()),
  };
}

class WorkerStartError extends Error {
  constructor(readonly code: number | null) {
    super(`a worker exited while starting (code ${code})`);
  }
}

function readyOrExit(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown): void => {
      if ((message as { channel?: string } | null)?.channel !== READY_CHANNEL) return;
      worker.off('exit', onExit);
      worker.off('message', onMessage);
      resolve();
    };
    const onExit = (code: number | null): void => {
      worker.off('message', onMessage);
      reject(new WorkerStartError(code));
    };
    worker.on('message', onMessage);
    worker.once('exit', onExit);
  });
}

/** Each worker runs its own graceful shutdown; one still there after the deadline is killed. */
async function drain(workers: Worker[], shutdownTimeoutMs: number): Promise<void> {
  await Promise.all(
    workers.map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const deadline = setTimeout(() => worker.process.kill('SIGKILL'), shutdownTimeoutMs + 5_000);
          worker.once('exit', () => {
            clearTimeout(deadline);
            resolve();
          });
          if (worker.isConnected()) worker.send({ channel: DRAIN_CHANNEL });
          else worker.process.kill('SIGTERM');
        }),
    ),
  );
}

export function isWorkerStartError(error: unknown): error is WorkerStartError {
  return error instanceof WorkerStartError;
}
