// A gateway SIGKILLed right after it committed a hold, before it published the seat change: the change is
// in PostgreSQL's seat-change outbox (written by a trigger in the hold's own transaction), and the surviving
// instance's sweeper republishes it, so a subscriber on the survivor still hears it, in sequence order.
// The killed child publishes 1 s after a commit (TICKETING_COALESCE_MS=1000, a normal setting), so killing it
// the moment its answer arrives really lands between commit and publish; nothing in the gateway is faked.
import { afterAll, expect, it } from 'vitest';
import { withPg } from '../support/database.ts';
import { getFreePort } from '../support/free-port.ts';
import { gql } from '../support/kit.ts';
import { spawnGateway, waitUntilReady, type ChildGateway } from '../server/child-gateway.ts';
import * as kit from './kit.ts';
import type { HoldReply } from './kit.ts';

const fixture = kit.useFixture(3);
let child: ChildGateway | undefined;

afterAll(() => child?.killGroup());

async function outboxRows(databaseUrl: string, eventId: string): Promise<number> {
  return withPg(databaseUrl, async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "SeatChangeOutbox" WHERE "eventId" = $1::uuid`,
      [eventId],
    );
    return rows[0]!.n;
  });
}

it('a seat change committed by a gateway killed before publishing reaches subscribers on the survivor', async () => {
  const { gateway, redis, customers, database } = fixture;
  const port = await getFreePort();
  child = spawnGateway({
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    TICKETING_COALESCE_MS: '1000',
  });
  await waitUntilReady(child, port, 60_000);
  const { event, recorder } = await kit.eventWithRecorder(gateway, database.url, 10);
  await kit.sleep(200); // graphql-ws gives no "subscribed" signal
  await gateway.query(kit.HOLD, { eventId: event.id, seatIds: [event.seatIds[0]] }, customers[0]!.headers);
  await kit.eventually(() => recorder.received.length > 0, 5_000, 'the survivor own change');

  const url = `http://127.0.0.1:${port}/graphql`;
  const reply = await gql<HoldReply>(
    url,
    kit.HOLD,
    { eventId: event.id, seatIds: [event.seatIds[1]] },
    {
      ...customers[1]!.headers,
    },
  );
  child.killGroup(); // SIGKILL: no shutdown flush
  expect(reply.body.errors).toBeUndefined();
  expect(reply.body.data?.holdSeats?.status).toBe('ACTIVE');
  expect(await child.exited).toMatchObject({ signal: 'SIGKILL' });

  const truth = await kit.seatMapInPostgres(database.url, event.id);
  expect(truth.get(event.seatIds[1]!)).toBe('HELD');
  const heard = () => kit.applyChanges(new Map(), recorder.received).get(event.seatIds[1]!) === 'HELD';
  await kit.eventually(heard, 15_000, 'the change the killed gateway committed');

  // A change after it still arrives, and numbers only go up.
  await gateway.query(kit.HOLD, { eventId: event.id, seatIds: [event.seatIds[2]] }, customers[2]!.headers);
  const map = () => kit.applyChanges(new Map(), recorder.received);
  await kit.eventually(() => map().get(event.seatIds[2]!) === 'HELD', 5_000, 'a later change');
  const sequences = recorder.received.map((c) => c.sequence);
  expect(sequences.every((s, i) => i === 0 || s > sequences[i - 1]!)).toBe(true);
  const now = await kit.seatMapInPostgres(database.url, event.id);
  for (const id of event.seatIds) expect(map().get(id) ?? 'AVAILABLE').toBe(now.get(id));
  await kit.eventually(async () => (await outboxRows(database.url, event.id)) === 0, 10_000, 'the outbox emptied');
  await recorder.close();
}, 120_000);
