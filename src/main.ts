// Entry point: `npm start`. Loads the configuration (one clear line and exit 1 when it is bad), starts
// the gateway, and shuts it down gracefully on SIGTERM / SIGINT.
import { ConfigError, loadConfig } from './config.ts';
import { startGateway } from './server/app.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`cachegate: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const gateway = await startGateway(config);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    gateway.logger.info({ signal }, 'signal received');
    // A second signal, or a shutdown stuck past its deadline, exits at once.
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
