// Bookings: one idempotency key gives one booking; 20 racing confirms of one hold give one booking; cancel
// gives the seats back; SOLD_OUT is set by the last booking and cleared by a cancel; only the owner reads
// or follows a booking; confirm works with redis-server stopped; and PostgreSQL refuses a booked seat even
// when Redis has lost everything.
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { withPg } from '../support/database.ts';
import {
  CANCEL,
  CONFIRM,
  createEvent,
  eventually,
  HOLD,
  subscribe,
  type Customer,
  type HoldReply,
  useFixture,
} from './kit.ts';

interface ConfirmReply {
  confirmBooking?: { id: string; reference: string; status: string; total: string; seats: { id: string }[] };
}

const fx = useFixture(4);

async function holdFor(customer: Customer, eventId: string, seatIds: string[]): Promise<string> {
  const reply = await fx.gateway.query<HoldReply>(HOLD, { eventId, seatIds }, customer.headers);
  const hold = reply.body.data?.holdSeats;
  if (!hold) throw new Error(`hold failed: ${JSON.stringify(reply.body.errors)}`);
  return hold.id;
}

async function bookingCount(eventId: string): Promise<number> {
  return withPg(fx.database.url, async (c) => {
    const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM "Booking" WHERE "eventId" = $1', [
      eventId,
    ]);
    return rows[0]!.n;
  });
}

async function eventStatus(eventId: string): Promise<string> {
  return withPg(fx.database.url, async (c) => {
    const { rows } = await c.query<{ status: string }>('SELECT status::text FROM "Event" WHERE id = $1', [eventId]);
    return rows[0]!.status;
  });
}

describe('confirmBooking', () => {
  it('the same idempotency key twice gives one booking', async () => {
    const event = await createEvent(fx.database.url, 4);
    const buyer = fx.customers[0]!;
    const holdId = await holdFor(buyer, event.id, event.seatIds.slice(0, 2));
    const first = await fx.gateway.query<ConfirmReply>(CONFIRM, { holdId, key: 'checkout-0001' }, buyer.headers);
    const again = await fx.gateway.query<ConfirmReply>(CONFIRM, { holdId, key: 'checkout-0001' }, buyer.headers);
    expect(first.body.data?.confirmBooking).toMatchObject({ status: 'CONFIRMED', total: '200.00' });
    expect(first.body.data?.confirmBooking?.seats).toHaveLength(2);
    expect(again.body.data?.confirmBooking?.id).toBe(first.body.data?.confirmBooking?.id);
    expect(await bookingCount(event.id)).toBe(1);
    // The key belongs to that hold: using it for another one is a conflict, not a second booking.
    const otherHold = await holdFor(buyer, event.id, [event.seatIds[2]!]);
    const reused = await fx.gateway.query<ConfirmReply>(
      CONFIRM,
      { holdId: otherHold, key: 'checkout-0001' },
      buyer.headers,
    );
    expect(reused.body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('20 racing confirms of one hold (10 keys, each sent twice) give one booking', async () => {
    const event = await createEvent(fx.database.url, 3);
    const buyer = fx.customers[1]!;
    const holdId = await holdFor(buyer, event.id, event.seatIds);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fx.gateway.query<ConfirmReply>(CONFIRM, { holdId, key: `race-key-${i % 10}` }, buyer.headers),
      ),
    );
    const ids = new Set(replies.map((r) => r.body.data?.confirmBooking?.id));
    expect(replies.map((r) => r.body.errors)).toEqual(replies.map(() => undefined));
    expect(ids.size).toBe(1);
    expect(await bookingCount(event.id)).toBe(1);
    // The last seats are booked: the event is SOLD_OUT, and holding there is NOT_ON_SALE.
    expect(await eventStatus(event.id)).toBe('SOLD_OUT');
    const late = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: [event.seatIds[0]] },
      fx.customers[2]!.headers,
    );
    expect(late.body.errors?.[0]?.extensions?.code).toBe('NOT_ON_SALE');
  });

  it('cancel returns the seats, clears SOLD_OUT, and the owner (only) hears of it', async () => {
    const event = await createEvent(fx.database.url, 2);
    const [buyer, stranger] = fx.customers;
    const holdId = await holdFor(buyer!, event.id, event.seatIds);
    const booking = (await fx.gateway.query<ConfirmReply>(CONFIRM, { holdId, key: 'cancel-me-1' }, buyer!.headers)).body
      .data!.confirmBooking!;
    expect(await eventStatus(event.id)).toBe('SOLD_OUT');
    const query = 'subscription B($id: ID!) { bookingStatusChanged(bookingId: $id) { id status } }';
    const owner = subscribe(fx.gateway, query, { id: booking.id }, (d) => d.bookingStatusChanged, buyer!.headers);
    const other = subscribe(fx.gateway, query, { id: booking.id }, (d) => d.bookingStatusChanged, stranger!.headers);
    try {
      await other.done;
      expect(JSON.stringify(other.errors)).toContain('FORBIDDEN');
      await new Promise((resolve) => setTimeout(resolve, 300)); // the owner's subscription is live
      const refused = await fx.gateway.query(CANCEL, { id: booking.id }, stranger!.headers);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const cancelled = await fx.gateway.query(CANCEL, { id: booking.id }, buyer!.headers);
      expect(cancelled.body.data?.cancelBooking).toEqual({ id: booking.id, status: 'CANCELLED' });
      await eventually(() => owner.received.length > 0, 5_000, 'the owner to hear of the cancel');
      expect(owner.received[0]).toEqual({ id: booking.id, status: 'CANCELLED' });
    } finally {
      await Promise.all([owner.close(), other.close()]);
    }
    expect(await eventStatus(event.id)).toBe('ON_SALE');
    // The seats are free again: someone else can hold them.
    await holdFor(stranger!, event.id, event.seatIds);
  });

  it('myBookings and booking(reference) show a customer only their own bookings', async () => {
    const event = await createEvent(fx.database.url, 2);
    const [buyer, stranger] = fx.customers.slice(2);
    const holdId = await holdFor(buyer!, event.id, [event.seatIds[0]!]);
    const booking = (await fx.gateway.query<ConfirmReply>(CONFIRM, { holdId, key: 'mine-key-1' }, buyer!.headers)).body
      .data!.confirmBooking!;
    const byRef = 'query R($r: String!) { booking(reference: $r) { id reference } }';
    expect((await fx.gateway.query(byRef, { r: booking.reference }, buyer!.headers)).body.data?.booking?.id).toBe(
      booking.id,
    );
    expect((await fx.gateway.query(byRef, { r: booking.reference }, stranger!.headers)).body.data?.booking).toBeNull();
    const mine = '{ myBookings(first: 1) { nodes { id } pageInfo { hasNextPage endCursor } } }';
    const page = await fx.gateway.query(mine, {}, buyer!.headers);
    expect(page.body.data?.myBookings.nodes.map((n: { id: string }) => n.id)).toContain(booking.id);
    expect(page.headers.get('cache-control')).toMatch(/private|no-store/);
    expect((await fx.gateway.query(mine, {}, stranger!.headers)).body.data?.myBookings.nodes).toEqual([]);
  });
});

describe('PostgreSQL is the last line of defence', () => {
  it('confirm works with redis-server stopped', async () => {
    const event = await createEvent(fx.database.url, 2);
    const buyer = fx.customers[3]!;
    const holdId = await holdFor(buyer, event.id, [event.seatIds[0]!]);
    await fx.redis.stop();
    try {
      const reply = await fx.gateway.query<ConfirmReply>(CONFIRM, { holdId, key: 'offline-key-1' }, buyer.headers);
      expect(reply.body.data?.confirmBooking?.status).toBe('CONFIRMED');
    } finally {
      await fx.redis.start();
    }
  });

  it('a Redis that lost everything cannot get a booked seat held, nor a seat booked twice', async () => {
    const event = await createEvent(fx.database.url, 2);
    const [buyer, other] = fx.customers;
    const holdId = await holdFor(buyer!, event.id, [event.seatIds[0]!]);
    await fx.gateway.query<ConfirmReply>(CONFIRM, { holdId, key: 'lost-redis-1' }, buyer!.headers);
    const raw = new Redis(fx.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await raw.connect();
    await raw.flushall();
    raw.disconnect();
    await eventually(async () => (await fx.gateway.query('{ __typename }')).status === 200, 5_000, 'gateway');
    const reply = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: event.seatIds },
      other!.headers,
    );
    expect(reply.body.errors?.[0]?.extensions).toMatchObject({
      code: 'SEATS_UNAVAILABLE',
      seats: [{ id: event.seatIds[0], reason: 'BOOKED' }],
    });
    // And below every code path, the unique constraint on BookingSeat.seatId.
    await expect(
      withPg(fx.database.url, (c) =>
        c.query(
          `INSERT INTO "BookingSeat" ("bookingId", "seatId", price)
           SELECT b.id, $1, 100 FROM "Booking" b WHERE b."eventId" <> $2 LIMIT 1`,
          [event.seatIds[0], event.id],
        ),
      ),
    ).rejects.toThrow(/BookingSeat_seatId_key/);
  });
});
