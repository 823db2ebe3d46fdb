// Live seat maps across two gateway instances on one Redis: a hold made on A shows in Event.seats and
// Event.availability on A and B at once (and a warm unchanged read still costs no SQL); a subscriber on B
// hears it with its sequence number; one that disconnects, misses 20 changes and comes back with its last
// sequence ends with exactly PostgreSQL's seat map; and a subscriber that never reads does not hold up
// delivery to 100 others.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase, withPg } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { afterChangesSettle } from '../support/settle.ts';
import {
  applyChanges,
  AVAILABILITY,
  createCustomers,
  createEvent,
  eventually,
  HOLD,
  SEATS_CHANGED,
  seatMapInPostgres,
  subscribe,
  wsUrl,
  type Customer,
  type HoldReply,
  type Recorder,
  type SeatChange,
} from './kit.ts';

let database: TestDatabase;
let a: TestGateway;
let b: TestGateway;
let customers: Customer[];

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const cachePrefix = randomPrefix();
  const start = () => startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix });
  [a, b] = await Promise.all([start(), start()]);
  customers = await createCustomers(database.url, 30);
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
});

interface AvailabilityData {
  event: {
    status: string;
    availableSeats: number;
    availability: { total: number; available: number; held: number; booked: number };
    seats: { id: string; status: string }[];
  };
}

const holdOn = (gateway: TestGateway, customer: Customer, eventId: string, seatIds: string[]) =>
  gateway.query<HoldReply>(HOLD, { eventId, seatIds }, customer.headers);

const seatChanges = (gateway: TestGateway, eventId: string, after?: number): Recorder<SeatChange> =>
  subscribe(gateway, SEATS_CHANGED, { eventId, after }, (d) => d.seatsChanged as SeatChange);

/** Waits until the subscription is live on the server (graphql-ws gives no signal): one change goes through. */
async function untilLive(recorder: Recorder<SeatChange>, poke: () => Promise<unknown>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = recorder.received.length;
  await poke();
  await eventually(() => recorder.received.length > before, 5_000, 'a first change to arrive');
}

describe('seat maps on two instances', () => {
  it('a hold on A shows in Event.seats and Event.availability on A and B at once; warm reads: 0 SQL', async () => {
    // The event row and its seats: both entries must have been dropped before the warm reads below.
    const event = await afterChangesSettle(
      [a, b],
      () => createEvent(database.url, 10),
      (keys, { id }) =>
        keys.some((k) => k.includes(':Event@') && k.endsWith(`:${id}`)) &&
        keys.some((k) => k.includes(':Event.seats@') && k.endsWith(`:${id}`)),
    );
    for (const gateway of [a, b]) {
      await gateway.query(AVAILABILITY, { id: event.id });
      gateway.sql.length = 0;
      const warm = await gateway.query<AvailabilityData>(AVAILABILITY, { id: event.id });
      expect(warm.body.data?.event.availability.available).toBe(10);
      expect(gateway.sql).toEqual([]);
    }
    const held = await holdOn(a, customers[0]!, event.id, event.seatIds.slice(0, 3));
    expect(held.body.data?.holdSeats?.seats).toHaveLength(3);
    // At once: no waiting for the 5-second TTL, no polling.
    const [onA, onB] = await Promise.all([a, b].map((g) => g.query<AvailabilityData>(AVAILABILITY, { id: event.id })));
    for (const reply of [onA!, onB!]) {
      expect(reply.body.data?.event.availability).toEqual({ total: 10, available: 7, held: 3, booked: 0 });
      expect(reply.body.data?.event.availableSeats).toBe(7);
      const statuses = new Map(reply.body.data!.event.seats.map((s) => [s.id, s.status]));
      expect(event.seatIds.slice(0, 3).map((id) => statuses.get(id))).toEqual(['HELD', 'HELD', 'HELD']);
    }
    b.sql.length = 0;
    await b.query(AVAILABILITY, { id: event.id });
    expect(b.sql).toEqual([]); // nothing changed since: served from cache
  });
});

describe('seatsChanged across instances', () => {
  it('a subscriber on B receives a hold made on A, with its sequence number, and the counts', async () => {
    const event = await createEvent(database.url, 10);
    const watcher = seatChanges(b, event.id);
    const counts = subscribe(
      b,
      'subscription C($e: ID!) { eventAvailability(eventId: $e) { held available } }',
      {
        e: event.id,
      },
      (d) => d.eventAvailability as { held: number; available: number },
    );
    try {
      await untilLive(watcher, () => holdOn(a, customers[1]!, event.id, [event.seatIds[0]!]));
      const first = watcher.received.at(-1)!;
      expect(first).toMatchObject({
        eventId: event.id,
        snapshot: false,
        seats: [{ id: event.seatIds[0], status: 'HELD' }],
      });
      expect(first.sequence).toBeGreaterThan(0);
      await holdOn(a, customers[2]!, event.id, [event.seatIds[1]!]);
      await eventually(() => watcher.received.length >= 2, 5_000, 'the second change');
      expect(watcher.received[1]!.sequence).toBe(first.sequence + 1);
      expect(watcher.received[1]!.seats).toEqual([{ id: event.seatIds[1], status: 'HELD' }]);
      await eventually(() => counts.received.some((c) => c.held === 2), 5_000, 'the counts');
      expect(counts.received.at(-1)).toEqual({ held: 2, available: 8 });
    } finally {
      await Promise.all([watcher.close(), counts.close()]);
    }
  });

  it("one that misses 20 changes and resubscribes with its last sequence ends with PostgreSQL's map", async () => {
    const event = await createEvent(database.url, 30);
    const initial = new Map(event.seatIds.map((id) => [id, 'AVAILABLE']));
    const first = seatChanges(b, event.id);
    await untilLive(first, () => holdOn(a, customers[0]!, event.id, [event.seatIds[0]!]));
    const seen = [...first.received];
    await first.close();
    // 20 changes while away: 20 holds by 20 customers, one after another (so none are coalesced).
    for (let i = 1; i <= 20; i++) await holdOn(a, customers[i]!, event.id, [event.seatIds[i]!]);
    const last = seen.at(-1)!.sequence;
    const again = seatChanges(b, event.id, last);
    try {
      await eventually(() => again.received.some((c) => c.sequence >= last + 20), 5_000, 'the missed changes');
      expect(again.received.slice(0, 20).map((c) => c.sequence)).toEqual(
        Array.from({ length: 20 }, (_, i) => last + 1 + i),
      );
      expect(again.received.every((c) => !c.snapshot)).toBe(true);
      // and live changes follow the replay, in order
      await holdOn(a, customers[21]!, event.id, [event.seatIds[21]!]);
      await eventually(() => again.received.some((c) => c.sequence === last + 21), 5_000, 'the live change');
      const map = applyChanges(applyChanges(initial, seen), again.received);
      expect(map).toEqual(await seatMapInPostgres(database.url, event.id));
    } finally {
      await again.close();
    }
    // A sequence the log cannot serve (here: from the future) gets one full snapshot instead.
    const confused = seatChanges(b, event.id, 1_000_000);
    try {
      await eventually(() => confused.received.length > 0, 5_000, 'a snapshot');
      expect(confused.received[0]!.snapshot).toBe(true);
      expect(new Map(confused.received[0]!.seats.map((s) => [s.id, s.status]))).toEqual(
        await seatMapInPostgres(database.url, event.id),
      );
    } finally {
      await confused.close();
    }
  });

  it('a subscriber that never reads does not hold up delivery to 100 others', async () => {
    const event = await createEvent(database.url, 20);
    const stalled = await neverReadingSubscriber(b, event.id);
    const others = Array.from({ length: 100 }, () => seatChanges(b, event.id));
    try {
      // Subscriptions go live one by one: poke with holds until every one of the 100 has heard something.
      let poke = 0;
      await eventually(
        async () => {
          if (others.every((o) => o.received.length > 0)) return true;
          await holdOn(a, customers[poke]!, event.id, [event.seatIds[poke]!]);
          poke += 1;
          await new Promise((resolve) => setTimeout(resolve, 150));
          return false;
        },
        8_000,
        'all 100 to be live',
      );
      const baseline = others.map((o) => o.received.length);
      const started = Date.now();
      for (let i = 0; i < 10; i++) await holdOn(a, customers[poke + i]!, event.id, [event.seatIds[poke + i]!]);
      await eventually(() => others.every((o, k) => o.received.length >= baseline[k]! + 10), 5_000, 'all changes');
      const took = Date.now() - started;
      console.log(`[realtime] 10 changes reached 100 subscribers in ${took} ms beside a never-reading one`);
      for (const other of others) {
        const sequences = other.received.map((c) => c.sequence);
        expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => sequences[0]! + i));
      }
    } finally {
      stalled.terminate();
      await Promise.all(others.map((o) => o.close()));
    }
  });
});

/**
 * A graphql-ws client that subscribes (to this event and, ten times, to the seed's 2,560-seat map as a
 * snapshot, so there is plenty to send it) and then never reads its socket again.
 */
async function neverReadingSubscriber(gateway: TestGateway, eventId: string): Promise<WebSocket> {
  const socket = new WebSocket(wsUrl(gateway), 'graphql-transport-ws');
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init' }));
  await new Promise((resolve) => socket.once('message', resolve));
  const { rows } = await withPg(database.url, (c) =>
    c.query<{ id: string }>(`SELECT id::text FROM "Event" WHERE name = 'Merdeka Night Concert'`),
  );
  const payloads = [
    { eventId, after: null },
    ...Array.from({ length: 9 }, () => ({ eventId: rows[0]!.id, after: 1_000_000 })),
  ];
  for (const [i, variables] of payloads.entries()) {
    const payload = { query: SEATS_CHANGED, variables };
    socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload }));
  }
  socket.pause();
  return socket;
}

describe('a single instance without Redis', () => {
  it('holds through PostgreSQL and numbers, replays and pushes seat changes in process', async () => {
    const single = await startTestGateway({ databaseUrl: database.url });
    try {
      const event = await createEvent(database.url, 5);
      const first = seatChanges(single, event.id);
      await untilLive(first, () => holdOn(single, customers[0]!, event.id, [event.seatIds[0]!]));
      const seen = first.received.at(-1)!;
      expect(seen.seats).toEqual([{ id: event.seatIds[0], status: 'HELD' }]);
      await first.close();
      await holdOn(single, customers[1]!, event.id, [event.seatIds[1]!]);
      const again = seatChanges(single, event.id, seen.sequence);
      try {
        await eventually(() => again.received.length > 0, 5_000, 'the replayed change');
        expect(again.received[0]).toMatchObject({
          sequence: seen.sequence + 1,
          snapshot: false,
          seats: [{ id: event.seatIds[1], status: 'HELD' }],
        });
      } finally {
        await again.close();
      }
    } finally {
      await single.stop();
    }
  });
});
