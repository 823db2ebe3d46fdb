// What `npm start` prints when the gateway cannot start: one line that names the cause and what to do,
// never a bare "undefined" or a stack. The composition root's parts throw what they know (a port,
// a folder, a driver's error code); the setting names that fix each case live here, next to each other.
import type { Config } from '../config.ts';
import { redactUrl } from '../config.ts';
import { EmbeddedPostgresError } from '../db/embedded-postgres.ts';

interface SystemError {
  code?: string;
  port?: number;
  address?: string;
  message?: string;
}

/** "<cause>: <what to do>" for a start-up failure, for a person reading a terminal. */
export function describeStartFailure(error: unknown, config: Config): string {
  if (error instanceof EmbeddedPostgresError) return describeEmbedded(error);
  const system = systemErrorOf(error);
  if (system?.code === 'EADDRINUSE' && system.port === config.port)
    return `port ${config.port} on ${config.host} is taken: stop what uses it, or set PORT to a free port`;
  if (system?.code === 'EACCES' && system.port === config.port)
    return `no permission to listen on port ${config.port}: set PORT to a port above 1023`;
  if (system?.code && CONNECTION_CODES.has(system.code)) {
    if (!config.databaseUrl) return `cannot reach the embedded PostgreSQL (${system.code}): see the log above`;
    return (
      `cannot reach the PostgreSQL server of DATABASE_URL, ${redactUrl(config.databaseUrl)} (${system.code}): ` +
      'start it, or fix DATABASE_URL'
    );
  }
  const postgresAnswer = POSTGRES_CODES[(error as { code?: string } | null)?.code ?? ''];
  if (postgresAnswer) return `${postgresAnswer}: fix DATABASE_URL (${redactUrl(config.databaseUrl ?? '')})`;
  const message = error instanceof Error ? error.message : String(error ?? '');
  return `${message || (error as Error | undefined)?.name || 'an error without a message'}: see the log above`;
}

function describeEmbedded(error: EmbeddedPostgresError): string {
  const { port, databaseDir } = error;
  switch (error.reason) {
    case 'already-running':
      return (
        `the embedded PostgreSQL in ${databaseDir} is already running (${error.message}, port ${port}): ` +
        'is cachegate already running from this checkout? Stop it, or set EMBEDDED_PG_DIR and EMBEDDED_PG_PORT ' +
        'to run a second one'
      );
    case 'port-taken':
      return (
        `port ${port} is taken, so the embedded PostgreSQL cannot listen on it (${error.message}): ` +
        'stop what uses it, or set EMBEDDED_PG_PORT to a free port'
      );
    case 'failed':
      return (
        `the embedded PostgreSQL (port ${port}, data in ${databaseDir}) did not start: ${error.message}. ` +
        'Set LOG_LEVEL=debug to see its output, or set DATABASE_URL to use a PostgreSQL server of your own'
      );
  }
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** PostgreSQL's answers that mean the URL is wrong, by SQLSTATE. */
const POSTGRES_CODES: Record<string, string> = {
  '28P01': 'PostgreSQL refused the password',
  '28000': 'PostgreSQL refused the login',
  '3D000': 'the database does not exist',
};

/** Node's own errors, also inside an AggregateError (a connection tried over IPv4 and IPv6). */
function systemErrorOf(error: unknown): SystemError | undefined {
  if (error instanceof AggregateError) return systemErrorOf(error.errors[0]);
  if (error && typeof error === 'object' && 'code' in error) return error as SystemError;
  return undefined;
}
