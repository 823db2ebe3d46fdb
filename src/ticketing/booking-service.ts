// Bookings: a confirm turns an active hold into a CONFIRMED booking in one PostgreSQL transaction (payment
// is out of scope: a confirm stands for a paid checkout). Three things make a double sale impossible: the
// hold row is locked while it is confirmed (racing confirms queue, the first wins, the rest get its
// booking), Booking.holdId is unique, and BookingSeat.seatId is unique, which holds even if Redis was wrong.
// Bookings are private: read from PostgreSQL for their owner, never put in a shared cache.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/prisma.ts';
import type { Booking, Seat } from '../generated/prisma/client.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { newestFirstPage, type NewestFirstPage, type PageArgs } from '../graphql/newest-first-page.ts';
import { BadUserInputError, ErrorCode, ForbiddenError, GatewayError, NotFoundError } from '../infra/errors.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import { HoldExpiredError, IdempotencyKeyReusedError } from './errors.ts';
import { retryingConflicts } from './hold-failures.ts';
import { TX_OPTIONS, type Tx } from './hold-queries.ts';
import type { SeatSync } from './seat-sync.ts';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,64}$/;
const REFERENCE = /^[A-Z0-9]{4,16}$/;
/** Crockford-style alphabet: no I, L, O, U, so a reference read out loud is not misheard. */
const REFERENCE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type BookingPage = NewestFirstPage<Booking>;

export function bookingTopic(bookingId: string): string {
  return `booking:${bookingId}`;
}

function newReference(): string {
  const bytes = randomBytes(10);
  return `CG${[...bytes].map((b) => REFERENCE_ALPHABET[b % 32]).join('')}`;
}

const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === 'P2002';

export class BookingService {
  constructor(private readonly deps: { db: Database; sync: SeatSync; bus: EventBus }) {}

  async confirm(userId: string, holdIdArg: string, idempotencyKey: string): Promise<Booking> {
    const holdId = parseUuid(holdIdArg, 'holdId');
    if (!IDEMPOTENCY_KEY.test(idempotencyKey))
      throw new BadUserInputError(
        'idempotencyKey must be 8 to 64 characters of A-Z, a-z, 0-9, _ . : -',
        'idempotencyKey',
      );
    const replay = await this.byIdempotencyKey(userId, holdId, idempotencyKey);
    if (replay) return replay;
    let outcome: { booking: Booking; seatIds: string[]; soldOut: { venueId: string } | undefined; created: boolean };
    try {
      outcome = await retryingConflicts(() =>
        this.deps.db.$transaction((tx) => this.confirmIn(tx, userId, holdId, idempotencyKey), TX_OPTIONS),
      );
    } catch (error) {
      // The same key raced itself (or was used for another hold meanwhile): the stored booking decides.
      if (!isUniqueViolation(error)) throw error;
      const again = await this.byIdempotencyKey(userId, holdId, idempotencyKey);
      if (again) return again;
      throw new GatewayError('the seats of this hold were booked by someone else', ErrorCode.CONFLICT);
    }
    const { booking, seatIds, soldOut, created } = outcome;
    if (created) {
      await this.deps.sync.inRedis(booking.eventId, (lock) => lock.settle(booking.eventId, holdId, seatIds, true));
      await this.deps.sync.committed(booking.eventId, seatIds, soldOut);
      await this.publish(booking);
    }
    return booking;
  }

  private async confirmIn(tx: Tx, userId: string, holdId: string, idempotencyKey: string) {
    const holds = await tx.$queryRaw<{ userId: string; eventId: string; status: string; live: boolean }[]>`
      SELECT "userId"::text, "eventId"::text, status::text, "expiresAt" > now() AS live
      FROM "Hold" WHERE id = ${holdId}::uuid FOR UPDATE`;
    const hold = holds[0];
    if (!hold) throw new NotFoundError('hold');
    if (hold.userId !== userId) throw new ForbiddenError('only the customer who made a hold may confirm it');
    if (hold.status === 'CONFIRMED') {
      // A racing confirm (another key) got here first: its booking is the one booking of this hold.
      const booking = await tx.booking.findUnique({ where: { holdId } });
      if (booking) return { booking, seatIds: [], soldOut: undefined, created: false };
    }
    if (hold.status !== 'ACTIVE' || !hold.live) throw new HoldExpiredError();
    const seats = await tx.$queryRaw<{ id: string; price: string }[]>`
      UPDATE "Seat" SET status = 'BOOKED', "holdId" = NULL, "updatedAt" = now()
      WHERE "holdId" = ${holdId}::uuid AND status = 'HELD' RETURNING id::text, price::text`;
    if (seats.length === 0) throw new HoldExpiredError();
    const total = seats.reduce((sum, seat) => sum + Math.round(Number(seat.price) * 100), 0) / 100;
    const booking = await tx.booking.create({
      data: {
        reference: newReference(),
        eventId: hold.eventId,
        userId,
        status: 'CONFIRMED',
        total: total.toFixed(2),
        holdId,
        idempotencyKey,
        seats: { createMany: { data: seats.map((seat) => ({ seatId: seat.id, price: seat.price })) } },
      },
    });
    await tx.$executeRaw`UPDATE "Hold" SET status = 'CONFIRMED' WHERE id = ${holdId}::uuid`;
    // SOLD_OUT when this was the last seat: no seat of the event is anything but BOOKED any more.
    const soldOut = await tx.$queryRaw<{ venueId: string }[]>`
      UPDATE "Event" e SET status = 'SOLD_OUT', "updatedAt" = now()
      WHERE e.id = ${hold.eventId}::uuid AND e.status = 'ON_SALE'
        AND NOT EXISTS (SELECT 1 FROM "Seat" s WHERE s."eventId" = e.id AND s.status <> 'BOOKED')
      RETURNING "venueId"::text`;
    return { booking, seatIds: seats.map((s) => s.id), soldOut: soldOut[0], created: true };
  }

  /** A replayed confirm: the booking this key made, if it was for this hold. */
  private async byIdempotencyKey(userId: string, holdId: string, idempotencyKey: string): Promise<Booking | null> {
    const booking = await this.deps.db.booking.findUnique({
      where: { userId_idempotencyKey: { userId, idempotencyKey } },
    });
    if (booking && booking.holdId !== holdId) throw new IdempotencyKeyReusedError();
    return booking;
  }

  /** Cancels one of the user's bookings and gives its seats back; a cancelled booking is returned as is. */
  async cancel(userId: string, bookingIdArg: string): Promise<Booking> {
    const bookingId = parseUuid(bookingIdArg, 'bookingId');
    const outcome = await retryingConflicts(() => this.cancelIn(bookingId, userId));
    const { booking, seatIds } = outcome;
    if (seatIds.length) {
      await this.deps.sync.inRedis(booking.eventId, (lock) => lock.settle(booking.eventId, null, seatIds, false));
      await this.deps.sync.committed(booking.eventId, seatIds, 'reopened' in outcome ? outcome.reopened : undefined);
      await this.publish(booking);
    }
    return booking;
  }

  /** The cancel's one transaction: lock the booking, free its seats, reopen a sold-out event. */
  private cancelIn(bookingId: string, userId: string) {
    return this.deps.db.$transaction(async (tx) => {
      const found = await tx.$queryRaw<{ userId: string; status: string }[]>`
        SELECT "userId"::text, status::text FROM "Booking" WHERE id = ${bookingId}::uuid FOR UPDATE`;
      const row = found[0];
      if (!row) throw new NotFoundError('booking');
      if (row.userId !== userId) throw new ForbiddenError('only the customer who made a booking may cancel it');
      if (row.status === 'CANCELLED')
        return { booking: await tx.booking.findUniqueOrThrow({ where: { id: bookingId } }), seatIds: [] as string[] };
      const freed = await tx.$queryRaw<{ seatId: string }[]>`
        DELETE FROM "BookingSeat" WHERE "bookingId" = ${bookingId}::uuid RETURNING "seatId"::text`;
      const seatIds = freed.map((r) => r.seatId);
      await tx.$executeRaw`
        UPDATE "Seat" SET status = 'AVAILABLE', "updatedAt" = now()
        WHERE id = ANY(${seatIds}::uuid[]) AND status = 'BOOKED'`;
      const booking = await tx.booking.update({ where: { id: bookingId }, data: { status: 'CANCELLED' } });
      const reopened = await tx.$queryRaw<{ venueId: string }[]>`
        UPDATE "Event" SET status = 'ON_SALE', "updatedAt" = now()
        WHERE id = ${booking.eventId}::uuid AND status = 'SOLD_OUT' RETURNING "venueId"::text`;
      return { booking, seatIds, reopened: reopened[0] };
    }, TX_OPTIONS);
  }

  /** The user's bookings, newest first, keyset-paginated on (createdAt, id). */
  mine(userId: string, args: PageArgs): Promise<BookingPage> {
    return newestFirstPage(args, ({ after, orderBy, take }) =>
      this.deps.db.booking.findMany({ where: { userId, ...after }, orderBy, take }),
    );
  }

  /** The user's booking with this reference; null for anyone else's (its existence is not revealed). */
  async byReference(userId: string, reference: string): Promise<Booking | null> {
    if (!REFERENCE.test(reference)) return null;
    const booking = await this.deps.db.booking.findUnique({ where: { reference } });
    return booking?.userId === userId ? booking : null;
  }

  /** For bookingStatusChanged: the booking, if the user owns it. */
  async owned(userId: string, bookingIdArg: string): Promise<Booking> {
    const booking = await this.deps.db.booking.findUnique({ where: { id: parseUuid(bookingIdArg, 'bookingId') } });
    if (!booking) throw new NotFoundError('booking');
    if (booking.userId !== userId) throw new ForbiddenError('only the customer who made a booking may follow it');
    return booking;
  }

  async seatsOf(bookingId: string): Promise<Seat[]> {
    return this.deps.db.seat.findMany({
      where: { bookingSeat: { bookingId } },
      orderBy: [{ section: 'asc' }, { row: 'asc' }, { number: 'asc' }],
    });
  }

  private async publish(booking: Booking): Promise<void> {
    await this.deps.bus.publish(bookingTopic(booking.id), booking).catch(() => undefined);
  }
}
