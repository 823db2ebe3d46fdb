// A hold's total lifetime is capped (TICKETING_HOLD_MAX_LIFETIME_SECONDS): holding seats one already holds
// extends the hold, but never past createdAt + the cap, so one account cannot keep seats off sale by
// re-holding before expiry. Checked through Redis's lock (and its PostgreSQL mirror) and with redis-server
// stopped (PostgreSQL alone decides); in both the seats really come back at the cap and another customer
// gets them.
import { describe, expect, it } from 'vitest';
import { withPg } from '../support/database.ts';
import { createEvent, eventually, HOLD, type HoldReply, sleep, useFixture } from './kit.ts';

const TTL_MS = 3_000;
const MAX_LIFETIME_MS = 4_000;
const fx = useFixture(4, {
  TICKETING_HOLD_TTL_SECONDS: String(TTL_MS / 1000),
  TICKETING_HOLD_MAX_LIFETIME_SECONDS: String(MAX_LIFETIME_MS / 1000),
});

async function holdRow(holdId: string): Promise<{ createdAt: Date; expiresAt: Date; status: string }> {
  return withPg(fx.database.url, async (client) => {
    const { rows } = await client.query<{ createdAt: Date; expiresAt: Date; status: string }>(
      `SELECT "createdAt", "expiresAt", status::text FROM "Hold" WHERE id = $1`,
      [holdId],
    );
    return rows[0]!;
  });
}

/** One customer re-holds the same seats every 1.5 s; the hold stops at createdAt + the cap, then is freed. */
async function renewUntilCapped(holder: number, taker: number): Promise<void> {
  const event = await createEvent(fx.database.url, 2);
  const hold = () =>
    fx.gateway.query<HoldReply>(HOLD, { eventId: event.id, seatIds: event.seatIds }, fx.customers[holder]!.headers);
  const replies = [await hold()];
  for (const _ of [1, 2]) {
    await sleep(1_500);
    replies.push(await hold());
  }
  const holds = replies.map((r) => r.body.data?.holdSeats);
  const id = holds[0]!.id;
  expect(holds.map((h) => h?.id)).toEqual([id, id, id]);
  const row = await holdRow(id);
  const cap = row.createdAt.getTime() + MAX_LIFETIME_MS;
  // The first answer is the TTL; the renewals stop at the cap instead of moving on by the TTL.
  expect(Date.parse(holds[0]!.expiresAt)).toBeLessThan(cap);
  expect(Date.parse(holds[1]!.expiresAt)).toBe(cap);
  expect(Date.parse(holds[2]!.expiresAt)).toBe(cap);
  expect(row.expiresAt.getTime()).toBe(cap);
  // At the cap the hold really ends and the seats go back on sale: someone else can hold them.
  await eventually(async () => (await holdRow(id)).status === 'EXPIRED', 10_000, 'the capped hold to expire');
  const other = await fx.gateway.query<HoldReply>(
    HOLD,
    { eventId: event.id, seatIds: event.seatIds },
    fx.customers[taker]!.headers,
  );
  expect(other.body.data?.holdSeats?.seats, JSON.stringify(other.body.errors)).toHaveLength(2);
}

describe('a hold cannot be renewed past its maximum lifetime', () => {
  it('through Redis (and its PostgreSQL mirror)', async () => {
    await renewUntilCapped(0, 1);
  });

  it('with redis-server stopped: PostgreSQL alone applies the same cap', async () => {
    await fx.redis.stop();
    try {
      await renewUntilCapped(2, 3);
    } finally {
      await fx.redis.start();
    }
  });
});
