// Structured logging with pino. PII and secrets are redacted by path as a second line of defence;
// the first is not passing them to the logger at all.
import { pino, type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  'email',
  '*.email',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers.cookie',
  'variables.*',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cachegate' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
