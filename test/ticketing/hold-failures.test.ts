// holdSeats when Redis misbehaves under it, with real redis-server and PostgreSQL: another instance
// dropping the event's lock state while holds are being decided, and a redis-server frozen (SIGSTOP) in the
// middle of a burst of holds. Every answer is a hold or a typed refusal (never INTERNAL_SERVER_ERROR), and
// no seat is ever held twice or left half-held: PostgreSQL and the answers agree.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/db/prisma.ts';
import { isWriteConflict, maskError } from '../../src/infra/errors.ts';
import { retryingConflicts, typedHoldFailure } from '../../src/ticketing/hold-failures.ts';
import { withPg } from '../support/database.ts';
import { createEvent, eventually, HOLD, type HoldReply, redisAnswers, sleep, useFixture } from './kit.ts';

const fx = useFixture(31);

const TYPED = new Set(['SEATS_UNAVAILABLE', 'SERVICE_UNAVAILABLE', 'HOLD_LIMIT_EXCEEDED']);

/** Customer i asks for seat pair i % pairs: several contenders per pair. */
async function holdAll(eventId: string, seatIds: string[], pairs: number) {
  const asks = fx.customers.slice(0, 30).map((customer, i) => ({
    customer,
    seats: [seatIds[(2 * i) % (2 * pairs)]!, seatIds[((2 * i) % (2 * pairs)) + 1]!],
  }));
  const replies = await Promise.all(
    asks.map((a) => fx.gateway.query<HoldReply>(HOLD, { eventId, seatIds: a.seats }, a.customer.headers)),
  );
  return asks.map((ask, i) => ({ ...ask, reply: replies[i]! }));
}

async function heldBy(eventId: string): Promise<Map<string, string>> {
  return withPg(fx.database.url, async (client) => {
    const { rows } = await client.query<{ seatId: string; userId: string }>(
      `SELECT s.id::text AS "seatId", h."userId"::text AS "userId" FROM "Seat" s JOIN "Hold" h ON h.id = s."holdId"
       WHERE s."eventId" = $1 AND s.status = 'HELD' AND h.status = 'ACTIVE'`,
      [eventId],
    );
    return new Map(rows.map((r) => [r.seatId, r.userId]));
  });
}

function check(outcomes: Awaited<ReturnType<typeof holdAll>>, held: Map<string, string>): void {
  const codes = outcomes.map((o) => o.reply.body.errors?.[0]?.extensions?.code ?? 'OK');
  for (const code of codes) expect(code === 'OK' || TYPED.has(code as string), JSON.stringify(codes)).toBe(true);
  const winners = outcomes.filter((o) => o.reply.body.data?.holdSeats);
  const expected = new Map<string, string>();
  for (const winner of winners) {
    for (const seatId of winner.seats) {
      expect(expected.has(seatId), `seat ${seatId} won twice`).toBe(false);
      expected.set(seatId, winner.customer.userId);
    }
  }
  expect(held).toEqual(expected);
}

describe('holdSeats while Redis misbehaves', () => {
  it('another instance drops the lock state during 30 concurrent holds: typed answers, PostgreSQL agrees', async () => {
    const event = await createEvent(fx.database.url, 20);
    const other = new Redis(fx.redis.url);
    const primed = `${fx.gateway.cachePrefix}:tk:{${event.id}}:primed`;
    let churning = true;
    const churn = (async () => {
      while (churning) await other.unlink(primed);
    })();
    try {
      const outcomes = await holdAll(event.id, event.seatIds, 10);
      check(outcomes, await heldBy(event.id));
    } finally {
      churning = false;
      await churn;
      other.disconnect();
    }
  });

  it('redis-server frozen (SIGSTOP) mid-burst, then resumed: typed answers, no seat half-held', async () => {
    const event = await createEvent(fx.database.url, 20);
    // Primed first, so the burst's scripts are sent and then stall in the frozen server.
    const first = await fx.gateway.query<HoldReply>(
      HOLD,
      { eventId: event.id, seatIds: [event.seatIds[19]] },
      fx.customers[29]!.headers,
    );
    expect(first.body.data?.holdSeats?.seats).toHaveLength(1);
    const pid = Number((await readFile(join(fx.redis.dir, 'redis.pid'), 'utf8')).trim());
    process.kill(pid, 'SIGSTOP');
    let resumed = false;
    const resume = (): void => {
      if (!resumed) process.kill(pid, 'SIGCONT');
      resumed = true;
    };
    try {
      const burst = holdAll(event.id, event.seatIds.slice(0, 18), 9);
      await sleep(1_500);
      resume();
      const outcomes = await burst;
      const held = await heldBy(event.id);
      held.delete(event.seatIds[19]!);
      check(
        outcomes.filter((o) => o.customer !== fx.customers[29]),
        held,
      );
      // Once Redis answers again it decides again, and agrees with PostgreSQL: the free seat is given, a held
      // one refused as HELD.
      await eventually(() => redisAnswers(fx.gateway), 10_000, 'redis circuit closed');
      const checker = fx.customers[30]!.headers;
      const free = await fx.gateway.query<HoldReply>(
        HOLD,
        { eventId: event.id, seatIds: [event.seatIds[18]] },
        checker,
      );
      expect(free.body.data?.holdSeats?.seats, JSON.stringify(free.body.errors)).toHaveLength(1);
      const taken = [...held.keys()][0]!;
      const refused = await fx.gateway.query<HoldReply>(HOLD, { eventId: event.id, seatIds: [taken] }, checker);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({
        code: 'SEATS_UNAVAILABLE',
        seats: [{ id: taken, reason: 'HELD' }],
      });
    } finally {
      resume();
    }
  });
});

describe("PostgreSQL's own failures, as a hold sees them", () => {
  it('a real deadlock (40P01) is known as a write conflict, typed SERVICE_UNAVAILABLE, and retried through', async () => {
    const event = await createEvent(fx.database.url, 2);
    const [a, b] = event.seatIds as [string, string];
    const db = createDatabase({ url: fx.database.url, poolSize: 4 });
    // Two transactions lock the same two seats in opposite orders: PostgreSQL kills one (40P01).
    const lockBoth = (first: string, second: string) =>
      db.$transaction(async (tx) => {
        await tx.$executeRaw`UPDATE "Seat" SET "updatedAt" = now() WHERE id = ${first}::uuid`;
        await sleep(300);
        await tx.$executeRaw`UPDATE "Seat" SET "updatedAt" = now() WHERE id = ${second}::uuid`;
      });
    try {
      const plain = await Promise.allSettled([lockBoth(a, b), lockBoth(b, a)]);
      const victims = plain.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(victims).toHaveLength(1);
      expect(isWriteConflict(victims[0])).toBe(true);
      expect(typedHoldFailure(victims[0])).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
      // Retried, the victim goes through once the other has committed: both complete.
      const retried = await Promise.allSettled([
        retryingConflicts(() => lockBoth(a, b)),
        retryingConflicts(() => lockBoth(b, a)),
      ]);
      expect(retried.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    } finally {
      await db.$disconnect();
    }
  });

  it('an expired transaction (P2028) and a statement timeout (57014) reach a client as SERVICE_UNAVAILABLE', async () => {
    const db = createDatabase({ url: fx.database.url, poolSize: 2 });
    try {
      const expired = await db
        .$transaction(async (tx) => tx.$executeRaw`SELECT pg_sleep(0.3)`, { timeout: 50 })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      const timedOut = await db
        .$transaction(async (tx) => {
          await tx.$executeRaw`SET LOCAL statement_timeout = 20`;
          await tx.$executeRaw`SELECT pg_sleep(0.3)`;
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      for (const error of [expired, timedOut]) {
        expect(error).toBeInstanceOf(Error);
        const { error: seen, masked } = maskError({ message: String(error) }, error, 'req-1');
        expect(seen.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', requestId: 'req-1' });
        expect(seen.message).not.toContain('pg_sleep');
        expect(masked).toBe(false);
      }
    } finally {
      await db.$disconnect();
    }
  });
});
