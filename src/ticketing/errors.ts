// Ticketing's own error codes, as small GatewayError subclasses (src/infra/errors.ts), so a client can tell
// a lost race (SEATS_UNAVAILABLE, with the reason for every refused seat) from a rule it broke.
import { ErrorCode, GatewayError } from '../infra/errors.ts';

export type SeatRefusal = 'HELD' | 'BOOKED' | 'NOT_FOUND';

export interface RefusedSeat {
  id: string;
  reason: SeatRefusal;
}

/** Codes outside the shared ErrorCode table: GatewayError carries them the same way. */
const code = (name: string): ErrorCode => name as ErrorCode;

export class SeatsUnavailableError extends GatewayError {
  constructor(readonly seats: RefusedSeat[]) {
    super(`${seats.length} of the requested seats cannot be held; nothing was held`, code('SEATS_UNAVAILABLE'), {
      seats,
    });
  }
}

export class HoldLimitExceededError extends GatewayError {
  constructor(limit: number, wouldHold: number) {
    super(
      `at most ${limit} seats per customer for this event (this would make ${wouldHold})`,
      code('HOLD_LIMIT_EXCEEDED'),
      {
        limit,
      },
    );
  }
}

export class NotOnSaleError extends GatewayError {
  constructor(status: string) {
    super(`this event is not on sale (${status})`, code('NOT_ON_SALE'));
  }
}

export class HoldExpiredError extends GatewayError {
  constructor() {
    super('this hold is no longer active: hold the seats again', code('HOLD_EXPIRED'));
  }
}

/** The key was used before for another hold: a client bug, never a retry. */
export class IdempotencyKeyReusedError extends GatewayError {
  constructor() {
    super('this idempotencyKey was already used to confirm another hold', ErrorCode.CONFLICT);
  }
}
