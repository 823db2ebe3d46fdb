// What a hold does when PostgreSQL answers "not now" rather than "no": a write conflict (serialization
// failure 40001, deadlock 40P01; Prisma's P2034) is retried, since the hold's statements are idempotent
// (same hold id, conditional claims); being busy or away (no connection or transaction slot in time,
// P2028, statement timeout, or unreachable) is SERVICE_UNAVAILABLE. Either way nothing half-done is left
// (docs/ARCHITECTURE.md, "Seat holds: failures and lifetime").
import { GatewayError, isDatabaseUnavailable, ServiceUnavailableError } from '../infra/errors.ts';

const CONFLICT_CODES = new Set(['40001', '40P01', 'P2034', 'TransactionWriteConflict']);
const BUSY_CODES = new Set(['P2024', 'P2028', '55P03', '57014', '53300', 'TooManyConnections']);
const BUSY_TEXT = /timeout exceeded when trying to connect|Unable to start a transaction in the given time/i;
const CONFLICT_ATTEMPTS = 3;

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

export function isWriteConflict(error: unknown): boolean {
  return codesOf(error).some((code) => CONFLICT_CODES.has(code));
}

function isBusy(error: unknown): boolean {
  if (codesOf(error).some((code) => BUSY_CODES.has(code))) return true;
  return error instanceof Error && BUSY_TEXT.test(error.message);
}

/** Runs PostgreSQL work again on a write conflict (a few times, then it counts as busy). */
export async function retryingConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= CONFLICT_ATTEMPTS || !isWriteConflict(error)) throw error;
    }
  }
}

/** A hold's failure as a client may see it: ours pass through, busy/away/conflict become SERVICE_UNAVAILABLE. */
export function typedHoldFailure(error: unknown): unknown {
  if (error instanceof GatewayError) return error;
  if (isWriteConflict(error) || isBusy(error) || isDatabaseUnavailable(error))
    return new ServiceUnavailableError('seats could not be held right now: nothing was held, try again shortly');
  return error;
}
