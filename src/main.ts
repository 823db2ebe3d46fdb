// Entry point: `npm start` (node with package.json's config.nodeFlags and --import tsx: one process, so
// SIGTERM reaches us directly, not through a wrapper that may kill us if we take time to answer). Loads
// the configuration, starts the gateway, and shuts it down gracefully on SIGTERM / SIGINT. Any failure to
// start is one clear line on stderr and exit code 1. With WORKERS > 1 this process is the primary of that
// many gateway workers on one port (src/server/cluster.ts), and each worker runs this file again as a gateway.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger, type Logger } from './infra/logger.ts';
import { startGateway } from './server/app.ts';
import { isWorkerStartError, startPrimary } from './server/cluster.ts';
import { joinCluster } from './server/cluster-worker.ts';
import { describeStartFailure } from './server/start-failure.ts';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`cachegate: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

// The browser app at /app/ is built on the first start (a few hundred milliseconds with esbuild).
if (!existsSync(join(config.webDir, 'index.html'))) {
  const { buildWeb } = await import('../scripts/build-web.ts');
  await buildWeb(resolve(config.webDir));
}

const worker = joinCluster();
const fail = (error: unknown): never => {
  // One clear line, not a stack dump; the details are in the structured log above it, if any. A worker
  // that could not start has printed its own line.
  if (!isWorkerStartError(error))
    process.stderr.write(`cachegate: could not start: ${describeStartFailure(error, config)}\n`);
  process.exit(1);
};

let running: { logger: Logger; stop(): Promise<void> };
if (config.workers > 1 && !worker) {
  running = await startPrimary(config, createLogger(config.logLevel).child({ role: 'primary' })).catch(fail);
} else {
  const logger = worker && createLogger(config.logLevel).child({ worker: worker.id });
  running = await startGateway(config, { ...(logger && { logger }), ...(worker && { worker }) }).catch(fail);
  worker?.ready();
}

let shuttingDown = false;
const shutDown = (reason: string): void => {
  shuttingDown = true;
  running.logger.info({ reason }, 'shutting down');
  const deadline = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 10_000);
  deadline.unref();
  running.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      running.logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
};
let signals = 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    // A second signal while draining means "now": exit at once.
    if (++signals > 1) process.exit(1);
    if (!shuttingDown) shutDown(signal);
  });
}
// A worker drains when the primary asks (or is gone). Ctrl-C signals the workers too: that signal is
// their first, not a second one, whichever arrives first.
worker?.onDrain((reason) => {
  if (!shuttingDown) shutDown(reason);
});
