// What a hold does when PostgreSQL answers "not now" rather than "no": a write conflict (serialization
// failure 40001, deadlock 40P01; Prisma's P2034) is retried, since the hold's statements are idempotent
// (same hold id, conditional claims); being busy or away (no connection or transaction slot in time,
// P2028, statement timeout, or unreachable) is SERVICE_UNAVAILABLE. Either way nothing half-done is left
// (docs/ARCHITECTURE.md, "Seat holds: failures and lifetime").
import { GatewayError, isDatabaseTransient, isWriteConflict, ServiceUnavailableError } from '../infra/errors.ts';

const CONFLICT_ATTEMPTS = 3;

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
  if (isDatabaseTransient(error))
    return new ServiceUnavailableError('seats could not be held right now: nothing was held, try again shortly');
  return error;
}
