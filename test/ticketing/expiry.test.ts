// Expiry with the gateway stopped and started again in between: a hold made by one gateway process runs out
// while that process is gone; the gateway started after it releases the seats within 2 s of the expiry
// (hold TTL 2 s here), never a booked seat, and publishes the release to seatsChanged subscribers.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import * as kit from './kit.ts';
import type { Customer, HoldReply, SeatChange } from './kit.ts';

const ENV = { TICKETING_HOLD_TTL_SECONDS: '2' };

let database: TestDatabase;
let customers: Customer[];
const gateways: TestGateway[] = [];

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  customers = await kit.createCustomers(database.url, 2);
});

afterAll(async () => {
  await Promise.allSettled(gateways.map((g) => g.stop()));
  await database?.drop();
});

async function start(cachePrefix?: string): Promise<TestGateway> {
  const gateway = await startTestGateway({
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    env: ENV,
    ...(cachePrefix && { cachePrefix }),
  });
  gateways.push(gateway);
  return gateway;
}

describe('a hold that runs out while its gateway is stopped', () => {
  it('is released within 2 s of expiry by the restarted gateway, booked seats untouched, and published', async () => {
    const event = await kit.createEvent(database.url, 4);
    const [holder, booker] = customers;
    const first = await start();
    // One seat is booked (held and confirmed) first: the sweep must never give it back.
    const booked = await first.query<HoldReply>(
      kit.HOLD,
      { eventId: event.id, seatIds: [event.seatIds[3]] },
      booker!.headers,
    );
    await first.query(kit.CONFIRM, { holdId: booked.body.data!.holdSeats!.id, key: 'expiry-booking' }, booker!.headers);
    const reply = await first.query<HoldReply>(
      kit.HOLD,
      { eventId: event.id, seatIds: event.seatIds.slice(0, 3) },
      holder!.headers,
    );
    const hold = reply.body.data!.holdSeats!;
    const expiresAt = Date.parse(hold.expiresAt);
    await first.stop();

    const second = await start(first.cachePrefix);
    // From the first change on (afterSequence 0), as a seat map that loaded earlier would: the sweep may run
    // before the new gateway has subscribed this client on Redis (slower on a cluster), and the release must
    // reach it all the same.
    const watcher = kit.subscribe<SeatChange>(
      second,
      kit.SEATS_CHANGED,
      { eventId: event.id, after: 0 },
      (d) => d.seatsChanged as SeatChange,
    );
    try {
      const released = (): boolean =>
        watcher.received.some((c) =>
          event.seatIds.slice(0, 3).every((id) => c.seats.some((s) => s.id === id && s.status === 'AVAILABLE')),
        );
      await kit.eventually(released, expiresAt + 6_000 - Date.now(), 'the release to be published');
      const heardAt = Date.now();
      expect(heardAt - expiresAt).toBeLessThan(2_000 + 500); // 2 s, plus the push's own way to us
      const map = await kit.seatMapInPostgres(database.url, event.id);
      expect(event.seatIds.slice(0, 3).map((id) => map.get(id))).toEqual(['AVAILABLE', 'AVAILABLE', 'AVAILABLE']);
      expect(map.get(event.seatIds[3]!)).toBe('BOOKED');
      // Redis forgot the hold too: someone else can hold the seats now.
      const again = await second.query<HoldReply>(
        kit.HOLD,
        { eventId: event.id, seatIds: event.seatIds.slice(0, 3) },
        booker!.headers,
      );
      expect(again.body.data?.holdSeats?.seats).toHaveLength(3);
    } finally {
      await watcher.close();
    }
  });
});
