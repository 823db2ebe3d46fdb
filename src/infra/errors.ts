// Typed errors. Every error a client sees carries extensions.code; anything that is not one of ours
// (or a GraphQL parse/validation error) is masked as INTERNAL_SERVER_ERROR, and the original is logged
// with the request id that the client also receives.
import { HeaderMap } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  ACCOUNT_LOCKED: 'ACCOUNT_LOCKED',
  /** The operation ran past its execution-time budget and was stopped. */
  OPERATION_TIMEOUT: 'OPERATION_TIMEOUT',
  /** The answer would be larger than the response-size bound. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** Over the query cost, which counts what lists can return (src/limits/query-cost.ts). */
  QUERY_TOO_COSTLY: 'QUERY_TOO_COSTLY',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class of every error we throw on purpose: its message is safe to show. */
export class GatewayError extends GraphQLError {
  constructor(
    message: string,
    readonly code: ErrorCode,
    extensions: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'GatewayError';
  }
}

export class BadUserInputError extends GatewayError {
  constructor(message: string, argumentName?: string) {
    super(message, ErrorCode.BAD_USER_INPUT, argumentName ? { argumentName } : {});
  }
}

export class UnauthenticatedError extends GatewayError {
  constructor(message = 'sign in first') {
    super(message, ErrorCode.UNAUTHENTICATED);
  }
}

export class ForbiddenError extends GatewayError {
  constructor(message = 'not allowed') {
    super(message, ErrorCode.FORBIDDEN);
  }
}

export class NotFoundError extends GatewayError {
  constructor(what: string) {
    super(`${what} not found`, ErrorCode.NOT_FOUND);
  }
}

export class ServiceUnavailableError extends GatewayError {
  /** With an HTTP status when raised before execution (context creation), where a status is the only signal. */
  constructor(
    message = 'a backing service is unavailable; try again shortly',
    httpStatus?: number,
    requestId?: string,
  ) {
    super(message, ErrorCode.SERVICE_UNAVAILABLE, {
      ...(httpStatus && { http: { status: httpStatus } }),
      ...(requestId && { requestId }),
    });
  }
}

/**
 * Refused for now: extensions.retryAfter (seconds) for clients, and HTTP 429 with Retry-After (Apollo
 * turns extensions.http into the response status and headers, and strips it from the body).
 */
export class RetryLaterError extends GatewayError {
  constructor(
    message: string,
    retryAfterSeconds: number,
    code: typeof ErrorCode.RATE_LIMITED | typeof ErrorCode.ACCOUNT_LOCKED = ErrorCode.RATE_LIMITED,
  ) {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    super(message, code, {
      retryAfter: seconds,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(seconds)]]) },
    });
  }
}

/** Codes produced by graphql-js / Apollo before execution: their messages describe the query, not us. */
const PASS_THROUGH_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'OPERATION_TIMEOUT',
  'RESPONSE_TOO_LARGE',
  'QUERY_TOO_COSTLY',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/** Messages can quote client input (a bad literal, a variable's value): only this much of one is shown. */
export const MAX_MESSAGE_CHARS = 300;

/** Cuts text that may hold client input to a short prefix, so no error repeats an unbounded value. */
export function shortened(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * Removes graphql-js's suggestions ("Did you mean …?") in one linear pass: a regex with a leading \s* is
 * quadratic on a message full of whitespace, and messages quote client input.
 */
export function withoutSuggestions(message: string): string {
  let kept = '';
  let from = 0;
  for (let at = message.indexOf('Did you mean', from); at >= 0; at = message.indexOf('Did you mean', from)) {
    kept += message.slice(from, at).trimEnd();
    const end = message.indexOf('?', at);
    from = end < 0 ? message.length : end + 1;
  }
  return kept + message.slice(from);
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'P1001',
  'P1002',
  'P1017',
  '57P01',
  '57P02',
  '57P03',
]);
/** What Prisma's pg adapter makes of a socket error (ECONNRESET: ConnectionClosed, with no SQLSTATE). */
const UNAVAILABLE_KINDS = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'SocketTimeout']);
const UNAVAILABLE_TEXT = new RegExp(
  "ECONNREFUSED|Connection terminated|Can't reach database server|timeout exceeded when trying to connect|" +
    'the database system is (starting up|shutting down)|Client has encountered a connection error|' +
    'Server has closed the connection',
  'i',
);

/**
 * Whether an error (or any error in its cause chain) says PostgreSQL could not be reached. Prisma's known
 * request errors (P2010 raw query failed, P2039...) carry the driver's error under meta.driverAdapterError,
 * not as their cause: that link is followed too.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 8; depth += 1) {
    const { code, message, cause, originalCode, kind, meta } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      originalCode?: unknown;
      kind?: unknown;
      meta?: { driverAdapterError?: unknown };
    };
    for (const value of [code, originalCode]) {
      if (typeof value === 'string' && (UNAVAILABLE_CODES.has(value) || value.startsWith('08'))) return true;
    }
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true;
    if (typeof message === 'string' && UNAVAILABLE_TEXT.test(message)) return true;
    current = cause ?? meta?.driverAdapterError;
  }
  return false;
}

const BUSY_CODES = new Set(['P2024', 'P2028', '55P03', '57014', '53300', 'TooManyConnections']);
const BUSY_TEXT = /timeout exceeded when trying to connect|Unable to start a transaction in the given time/i;
const CONFLICT_CODES = new Set(['40001', '40P01', 'P2034', 'TransactionWriteConflict']);

/** Every code in an error's cause chain, including what Prisma keeps under meta (its driver adapter's error). */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  const queue: unknown[] = [error];
  for (let seen = 0; queue.length && seen < 16; seen += 1) {
    const current = queue.shift() as Record<string, unknown> | null | undefined;
    if (!current || typeof current !== 'object') continue;
    for (const key of ['code', 'originalCode', 'kind']) {
      const value = current[key];
      if (typeof value === 'string') codes.push(value);
    }
    queue.push(current.cause, current.meta, (current.meta as Record<string, unknown> | undefined)?.driverAdapterError);
  }
  return codes;
}

/** A write conflict (serialization failure, deadlock): the transaction changed nothing and may run again. */
export function isWriteConflict(error: unknown): boolean {
  return codesOf(error).some((code) => CONFLICT_CODES.has(code));
}

/**
 * PostgreSQL is there but said "not now": no pool connection or transaction slot in time (P2024, P2028),
 * too many connections, a lock or statement timeout. Nothing was changed; a client may retry.
 */
export function isDatabaseBusy(error: unknown): boolean {
  if (codesOf(error).some((code) => BUSY_CODES.has(code))) return true;
  return error instanceof Error && BUSY_TEXT.test(error.message);
}

/** Whether a retry later may succeed: PostgreSQL away, busy, or a write conflict that outlived its retries. */
export function isDatabaseTransient(error: unknown): boolean {
  return isDatabaseUnavailable(error) || isDatabaseBusy(error) || isWriteConflict(error);
}

/**
 * Decides what a client may see of an error. `original` is the thrown value, unwrapped from the
 * resolver error that graphql-js wraps it in (Apollo's unwrapResolverError).
 * Returns the formatted error and whether it was masked (so the caller logs the original at error level).
 */
export function maskError(
  formatted: GraphQLFormattedError,
  original: unknown,
  requestId: string | undefined,
): { error: GraphQLFormattedError; masked: boolean } {
  const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
  const ours = original instanceof GatewayError;
  const passThrough = ours || (original instanceof GraphQLError && code !== undefined && PASS_THROUGH_CODES.has(code));
  if (!passThrough && isDatabaseTransient(original)) {
    // Not a bug: a dependency is down or busy. Say so with a code a client can retry on.
    return {
      error: {
        message: new ServiceUnavailableError().message,
        ...(formatted.path && { path: formatted.path }),
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, ...(requestId && { requestId }) },
      },
      masked: false,
    };
  }
  const extensions: Record<string, unknown> = { code: passThrough ? code : ErrorCode.INTERNAL_SERVER_ERROR };
  // graphql-js suggests names ("Did you mean the enum value …?"); graphql-armor removes only some forms.
  // Suggestions let a client map a schema with introspection off, so none leave the gateway.
  // Cut first: everything after works on at most a few kilobytes.
  const message = passThrough
    ? shortened(withoutSuggestions(formatted.message.slice(0, 4 * MAX_MESSAGE_CHARS)))
    : 'Internal server error';
  if (ours) Object.assign(extensions, stripInternal(formatted.extensions));
  if (requestId) extensions.requestId = requestId;
  const error: GraphQLFormattedError = {
    message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions,
  };
  return { error, masked: !passThrough };
}

function stripInternal(extensions: Record<string, unknown> | undefined): Record<string, unknown> {
  const { stacktrace: _stacktrace, exception: _exception, ...rest } = extensions ?? {};
  return rest;
}
