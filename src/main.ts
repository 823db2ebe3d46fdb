// Entry point: `npm start` (node --import tsx src/main.ts: one process, so SIGTERM reaches us directly,
// not through a wrapper that may kill us if we take time to answer). Loads the configuration (one clear line and exit 1 when it is bad), starts
// the gateway, and shuts it down gracefully on SIGTERM / SIGINT.
import { type Config, ConfigError, loadConfig } from './config.ts';
import { startGateway } from './server/app.ts';

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

const gateway = await startGateway(config).catch((error: unknown) => {
  // One clear line, not a stack dump; the details are in the structured log above it, if any.
  process.stderr.write(`cachegate: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
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
