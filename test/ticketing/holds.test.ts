// Seat holds under real concurrency: 200 clients of 40 customers race for the same 50 seats, with Redis and
// with redis-server stopped (PostgreSQL alone decides). Exactly 50 seats end up held, never one seat by
// two holds, and every loser is told which seats and why. Also: all or nothing, the per-customer limit,
// NOT_ON_SALE, and the hold rate-limit class.
import { describe, expect, it } from 'vitest';
import { withPg } from '../support/database.ts';
import { startTestGateway } from '../support/gateway.ts';
import { createEvent, eventually, HOLD, type HoldReply, redisAnswers, useFixture } from './kit.ts';

const fx = useFixture(40);

interface HeldRow {
  seatId: string;
  holdId: string | null;
  userId: string | null;
  status: string;
}

async function heldSeats(eventId: string): Promise<HeldRow[]> {
  return withPg(fx.database.url, async (client) => {
    const { rows } = await client.query<HeldRow>(
      `SELECT s.id::text AS "seatId", s."holdId"::text AS "holdId", h."userId"::text AS "userId", s.status::text
       FROM "Seat" s LEFT JOIN "Hold" h ON h.id = s."holdId" WHERE s."eventId" = $1`,
      [eventId],
    );
    return rows;
  });
}

/**
 * 200 clients: client i is customer i % 40 asking for pair i % 25 of the 50 seats. Every pair has 8
 * contenders, each customer asks for 5 different pairs (10 seats, the limit), and no two clients are the
 * same customer asking for the same pair.
 */
async function race(eventId: string, seatIds: string[]) {
  const pairs = Array.from({ length: 25 }, (_, k) => [seatIds[2 * k]!, seatIds[2 * k + 1]!]);
  const attempts = Array.from({ length: 200 }, (_, i) => ({ customer: fx.customers[i % 40]!, pair: pairs[i % 25]! }));
  const replies = await Promise.all(
    attempts.map((a) => fx.gateway.query<HoldReply>(HOLD, { eventId, seatIds: a.pair }, a.customer.headers)),
  );
  return attempts.map((attempt, i) => ({ ...attempt, reply: replies[i]! }));
}

function checkRace(outcomes: Awaited<ReturnType<typeof race>>, rows: HeldRow[]): void {
  const winners = outcomes.filter((o) => o.reply.body.data?.holdSeats);
  const losers = outcomes.filter((o) => !o.reply.body.data?.holdSeats);
  const codes = losers.map((l) => l.reply.body.errors?.[0]?.extensions?.code);
  expect(winners, JSON.stringify([...new Set(codes)])).toHaveLength(25); // one per pair
  expect(losers).toHaveLength(175);
  const heldBy = new Map<string, string>();
  for (const winner of winners) {
    for (const seatId of winner.pair) {
      expect(heldBy.has(seatId), `seat ${seatId} won twice`).toBe(false);
      heldBy.set(seatId, winner.customer.userId);
    }
  }
  for (const loser of losers) {
    expect(loser.reply.status).toBe(200);
    const error = loser.reply.body.errors?.[0];
    expect(error?.extensions?.code, JSON.stringify(error)).toBe('SEATS_UNAVAILABLE');
    const seats = error?.extensions?.seats as { id: string; reason: string }[];
    expect(seats.length).toBeGreaterThan(0);
    for (const seat of seats) {
      expect(loser.pair).toContain(seat.id);
      expect(seat.reason).toBe('HELD');
    }
  }
  // PostgreSQL agrees: exactly the 50 seats, each held by the winner of its pair, one hold per seat.
  const held = rows.filter((r) => r.status === 'HELD');
  expect(held).toHaveLength(50);
  for (const row of held) expect(row.userId).toBe(heldBy.get(row.seatId));
}

describe('200 concurrent clients of 40 fx.customers racing for 50 seats', () => {
  it('with Redis: exactly 50 seats held, none twice, every loser told which seats and why', async () => {
    const event = await createEvent(fx.database.url, 50);
    const outcomes = await race(event.id, event.seatIds);
    checkRace(outcomes, await heldSeats(event.id));
  });

  it('with redis-server stopped: PostgreSQL alone gives the same guarantees', async () => {
    const event = await createEvent(fx.database.url, 50);
    await fx.redis.stop();
    try {
      const outcomes = await race(event.id, event.seatIds);
      checkRace(outcomes, await heldSeats(event.id));
    } finally {
      await fx.redis.start();
    }
  });

  it('after Redis returns, holds go through Redis again and agree with what PostgreSQL decided alone', async () => {
    const event = await createEvent(fx.database.url, 4);
    const [first, second] = fx.customers;
    await fx.redis.stop();
    const offline = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: [event.seatIds[0]] },
      first!.headers,
    );
    expect(offline.body.data?.holdSeats?.seats).toHaveLength(1);
    await fx.redis.start();
    // Once the circuit closes, Redis decides again: it must know the seat PostgreSQL gave away meanwhile.
    await eventually(
      async () => (await fx.gateway.query('{ __typename }')).status === 200 && (await redisAnswers(fx.gateway)),
      10_000,
      'redis back',
    );
    const reply = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: [event.seatIds[0], event.seatIds[1]] },
      second!.headers,
    );
    expect(reply.body.errors?.[0]?.extensions).toMatchObject({
      code: 'SEATS_UNAVAILABLE',
      seats: [{ id: event.seatIds[0], reason: 'HELD' }],
    });
    const keys = await redisKeysOf(event.id);
    expect(keys.some((k) => k.endsWith(':primed'))).toBe(true);
  });
});

async function redisKeysOf(eventId: string): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const client = new Redis(fx.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    return await client.keys(`${fx.gateway.cachePrefix}:tk:{${eventId}}:*`);
  } finally {
    client.disconnect();
  }
}

describe('all or nothing, and the per-customer limit', () => {
  it('a request for 5 seats with 1 taken holds none of them and names the taken one', async () => {
    const event = await createEvent(fx.database.url, 10);
    const [taker, asker] = fx.customers;
    const taken = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: [event.seatIds[2]] },
      taker!.headers,
    );
    expect(taken.body.data?.holdSeats?.seats).toHaveLength(1);
    const five = event.seatIds.slice(0, 5);
    const reply = await fx.gateway.query<HoldReply>(HOLD, { eventId: event.id, seatIds: five }, asker!.headers);
    expect(reply.body.errors?.[0]?.extensions).toMatchObject({
      code: 'SEATS_UNAVAILABLE',
      seats: [{ id: event.seatIds[2], reason: 'HELD' }],
    });
    const rows = await heldSeats(event.id);
    expect(rows.filter((r) => r.status === 'HELD').map((r) => r.seatId)).toEqual([event.seatIds[2]]);
  });

  it('the 11th seat for one customer on one event is refused; holding again extends the same hold', async () => {
    const event = await createEvent(fx.database.url, 20);
    const buyer = fx.customers[5]!;
    const first = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: event.seatIds.slice(0, 6) },
      buyer.headers,
    );
    const second = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: event.seatIds.slice(6, 10) },
      buyer.headers,
    );
    expect(second.body.data?.holdSeats?.id).toBe(first.body.data?.holdSeats?.id);
    expect(second.body.data?.holdSeats?.seats).toHaveLength(10);
    expect(Date.parse(second.body.data!.holdSeats!.expiresAt)).toBeGreaterThanOrEqual(
      Date.parse(first.body.data!.holdSeats!.expiresAt),
    );
    const eleventh = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: [event.seatIds[10]] },
      buyer.headers,
    );
    expect(eleventh.body.errors?.[0]?.extensions?.code).toBe('HOLD_LIMIT_EXCEEDED');
    const tooMany = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: event.seatIds.slice(0, 11) },
      fx.customers[6]!.headers,
    );
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('HOLD_LIMIT_EXCEEDED');
    expect((await heldSeats(event.id)).filter((r) => r.status === 'HELD')).toHaveLength(10);
  });

  it('unknown seats are NOT_FOUND, anonymous callers UNAUTHENTICATED, and nothing is held', async () => {
    const event = await createEvent(fx.database.url, 3);
    const other = await createEvent(fx.database.url, 1);
    const reply = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: [event.seatIds[0], other.seatIds[0]] },
      fx.customers[7]!.headers,
    );
    expect(reply.body.errors?.[0]?.extensions).toMatchObject({
      code: 'SEATS_UNAVAILABLE',
      seats: [{ id: other.seatIds[0], reason: 'NOT_FOUND' }],
    });
    const anonymous = await fx.gateway.query<HoldReply>(HOLD, { eventId: event.id, seatIds: [event.seatIds[0]] });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await heldSeats(event.id)).filter((r) => r.status === 'HELD')).toHaveLength(0);
  });
});

describe('releaseHold', () => {
  it('gives the seats back to everyone at once; only the owner may, and only once', async () => {
    const event = await createEvent(fx.database.url, 3);
    const [owner, other] = fx.customers;
    const held = await fx.gateway.query<HoldReply>(HOLD, { eventId: event.id, seatIds: event.seatIds }, owner!.headers);
    const holdId = held.body.data!.holdSeats!.id;
    const release = 'mutation R($id: ID!) { releaseHold(holdId: $id) }';
    const refused = await fx.gateway.query(release, { id: holdId }, other!.headers);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await fx.gateway.query(release, { id: holdId }, owner!.headers)).body.data).toEqual({ releaseHold: true });
    expect((await fx.gateway.query(release, { id: holdId }, owner!.headers)).body.data).toEqual({ releaseHold: false });
    expect((await heldSeats(event.id)).filter((r) => r.status === 'HELD')).toHaveLength(0);
    const taken = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: event.seatIds },
      other!.headers,
    );
    expect(taken.body.data?.holdSeats?.seats).toHaveLength(3);
  });
});

describe('myActiveHold', () => {
  it('gives the owner back its hold (seats, expiry) on the event; nobody else; nothing once it has ended', async () => {
    const event = await createEvent(fx.database.url, 4);
    const [owner, other] = fx.customers;
    const active = 'query A($eventId: ID!) { myActiveHold(eventId: $eventId) { id expiresAt status seats { id } } }';
    type ActiveReply = { myActiveHold: { id: string; expiresAt: string; status: string; seats: { id: string }[] } };
    const none = await fx.gateway.query<ActiveReply>(active, { eventId: event.id }, owner!.headers);
    expect(none.body).toEqual({ data: { myActiveHold: null } });
    const held = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: event.seatIds.slice(0, 2) },
      owner!.headers,
    );
    const hold = held.body.data!.holdSeats!;
    const mine = await fx.gateway.query<ActiveReply>(active, { eventId: event.id }, owner!.headers);
    expect(mine.headers.get('cache-control')).toMatch(/private|no-store/);
    const found = mine.body.data!.myActiveHold;
    expect({ ...found, seats: found.seats.map((s) => s.id).sort() }).toEqual({
      id: hold.id,
      expiresAt: hold.expiresAt,
      status: 'ACTIVE',
      seats: event.seatIds.slice(0, 2).sort(),
    });
    const theirs = await fx.gateway.query<ActiveReply>(active, { eventId: event.id }, other!.headers);
    expect(theirs.body).toEqual({ data: { myActiveHold: null } });
    const anonymous = await fx.gateway.query(active, { eventId: event.id });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const release = 'mutation R($id: ID!) { releaseHold(holdId: $id) }';
    expect((await fx.gateway.query(release, { id: hold.id }, owner!.headers)).body.data).toEqual({ releaseHold: true });
    const after = await fx.gateway.query<ActiveReply>(active, { eventId: event.id }, owner!.headers);
    expect(after.body).toEqual({ data: { myActiveHold: null } });
  });
});

describe('the seed and the sales window', () => {
  it("the seed's SOLD_OUT event really is sold out, and holding there is NOT_ON_SALE", async () => {
    const soldOut = await withPg(fx.database.url, async (client) => {
      const { rows } = await client.query<{ id: string; seat: string; unbooked: number; booked: number }>(
        `SELECT e.id::text, min(s.id::text) AS seat,
           count(*) FILTER (WHERE s.status <> 'BOOKED')::int AS unbooked,
           (SELECT count(*) FROM "BookingSeat" bs JOIN "Seat" x ON x.id = bs."seatId"
            WHERE x."eventId" = e.id)::int AS booked
         FROM "Event" e JOIN "Seat" s ON s."eventId" = e.id WHERE e.status = 'SOLD_OUT' GROUP BY e.id`,
      );
      return rows;
    });
    expect(soldOut.length).toBeGreaterThan(0);
    for (const event of soldOut) {
      expect(event.unbooked).toBe(0);
      expect(event.booked).toBeGreaterThan(0);
    }
    const reply = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: soldOut[0]!.id, seatIds: [soldOut[0]!.seat] },
      fx.customers[8]!.headers,
    );
    expect(reply.body.errors?.[0]?.extensions?.code).toBe('NOT_ON_SALE');
  });
});

describe('the hold rate-limit class', () => {
  it('applies to holdSeats and confirmBooking: RATE_LIMITED with retryAfter once over', async () => {
    const limited = await startTestGateway({
      databaseUrl: fx.database.url,
      redisUrl: fx.redis.url,
      env: { RATE_LIMIT_HOLDS_PER_MINUTE: '2' },
    });
    try {
      const event = await createEvent(fx.database.url, 5);
      const buyer = fx.customers[9]!;
      const codes: unknown[] = [];
      for (const seatId of event.seatIds.slice(0, 2)) {
        const reply = await limited.query<HoldReply>(HOLD, { eventId: event.id, seatIds: [seatId] }, buyer.headers);
        codes.push(reply.body.errors?.[0]?.extensions?.code ?? 'OK');
      }
      const over = await limited.query(
        'mutation C($h: ID!) { confirmBooking(holdId: $h, idempotencyKey: "key-12345") { id } }',
        { h: '00000000-0000-4000-8000-000000000000' },
        buyer.headers,
      );
      expect(codes).toEqual(['OK', 'OK']);
      expect(over.status).toBe(429);
      expect(over.body.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(over.body.errors?.[0]?.extensions?.retryAfter)).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });
});
