// Entry point: `npm start` (node --import tsx src/main.ts: one process, so SIGTERM reaches us directly,
// not through a wrapper that may kill us if we take time to answer). Loads the configuration, starts the
// gateway, and shuts it down gracefully on SIGTERM / SIGINT. Any failure to start is one clear line on
// stderr and exit code 1.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { startGateway } from './server/app.ts';
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

const gateway = await startGateway(config).catch((error: unknown) => {
  // One clear line, not a stack dump; the details are in the structured log above it, if any.
  process.stderr.write(`cachegate: could not start: ${describeStartFailure(error, config)}\n`);
  process.exit(1);
});

let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    // A second signal while draining means "now": exit at once.
    if (shuttingDown) process.exit(1);
    shuttingDown = true;
    gateway.logger.info({ signal }, 'signal received');
    const deadline = setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 5_000);
    deadline.unref();
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        gateway.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
