// organizationActivity (src/accounts/organization-activity.ts) over graphql-ws on two gateways sharing
// Redis: A's admin, subscribed on instance B, receives a product change that A's admin made on instance
// A, the holds and bookings counts of A's event after a hold and a booking made on A, and a low-stock
// alert after a setStock on A; B's admin, subscribed to B's activity, receives none of it; B's admin may
// not subscribe to A's.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, signIn, sleep, waitUntil } from '../support/kit.ts';
import { CONFIRM, createCustomers, createEvent, HOLD } from '../ticketing/kit.ts';
import { EMAILS, sqlRows } from './kit.ts';

let database: TestDatabase;
let a: TestGateway;
let b: TestGateway;
const clients: Client[] = [];
const ACTIVITY = `subscription S($o: ID!) { organizationActivity(organizationId: $o) {
  organizationId action targetType targetId at
  seats { holds bookings heldSeats bookedSeats availableSeats } stock { available onHand reserved threshold } } }`;

interface Received {
  data: { organizationActivity: Record<string, string> }[];
  errors: { extensions?: { code?: string } }[];
}

/** Subscribes on `gw` as the holder of `token`; collects what arrives. */
function follow(gw: TestGateway, token: string, organizationId: string): Received {
  const client = createClient({
    url: gw.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  clients.push(client);
  const received: Received = { data: [], errors: [] };
  client.subscribe(
    { query: ACTIVITY, variables: { o: organizationId } },
    {
      next: (result) => {
        if (result.data) received.data.push(result.data as Received['data'][number]);
        if (result.errors) received.errors.push(...(result.errors as readonly Received['errors'][number][]));
      },
      error: (errors) => received.errors.push(...(errors as Received['errors'][number][])),
      complete: () => undefined,
    },
  );
  return received;
}

const idOf = async (slug: string) =>
  (await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Organization" WHERE slug = $1`, [slug]))[0]!.id;

const firstOf = async (table: 'Product' | 'Venue', organizationId: string) =>
  (
    await sqlRows<{ id: string }>(database.url, `SELECT id FROM "${table}" WHERE "organizationId" = $1 LIMIT 1`, [
      organizationId,
    ])
  )[0]!.id;

/** Changes the venue (as its admin, on instance A) until `received` hears of it: the subscription is live. */
async function untilLive(received: Received, venueId: string, headers: Record<string, string>): Promise<void> {
  let capacity = 300;
  await waitUntil(
    async () => {
      capacity += 1;
      const update = `mutation { updateVenue(id: "${venueId}", input: { capacity: ${capacity} }) { id } }`;
      dataOf(await gql(a.url, update, {}, headers));
      return received.data.length > 0;
    },
    5_000,
    'the subscription to start',
    200,
  );
  // Let the last of those announcements arrive before counting from here.
  await sleep(500);
  received.data.length = 0;
}

/** The activities with `action` received so far. */
const withAction = (received: Received, action: string) =>
  received.data.map((d) => d.organizationActivity).filter((activity) => activity.action === action);

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: randomPrefix() };
  [a, b] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.dispose()));
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
});

describe('organizationActivity', () => {
  it("delivers A's product change made on instance A to A's subscriber on B, and nothing to B's", async () => {
    const [orgA, orgB] = [await idOf('klcc-live'), await idOf('penang-arts')];
    const product = await firstOf('Product', orgA);
    const adminA = await signIn(a.url, EMAILS.orgA);
    const adminB = await signIn(a.url, EMAILS.orgB);

    const ofA = follow(b, adminA.token, orgA);
    const ofB = follow(b, adminB.token, orgB);
    const intruder = follow(b, adminB.token, orgA);
    await waitUntil(() => intruder.errors.length > 0, 5_000, "the refusal of B's subscription to A");
    expect(intruder.errors.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    // The subscriptions are in place once a change of B's own reaches B's subscriber.
    await untilLive(ofB, await firstOf('Venue', orgB), adminB.headers);
    const seenByA = ofA.data.length;

    const update = `mutation { updateProduct(id: "${product}", input: { name: "live change" }) { id } }`;
    dataOf(await gql(a.url, update, {}, adminA.headers));
    await waitUntil(() => ofA.data.length > seenByA, 5_000, "A's activity on instance B");
    expect(ofA.data.at(-1)!.organizationActivity).toMatchObject({
      organizationId: orgA,
      action: 'PRODUCT_UPDATED',
      targetType: 'Product',
      targetId: String(product),
    });
    await sleep(300);
    expect(ofB.data.map((d) => d.organizationActivity)).toEqual([]);
    expect(intruder.data).toEqual([]);
  });

  it("sends A's holds and bookings counts and low-stock alerts from A to A's subscriber on B only", async () => {
    const [orgA, orgB] = [await idOf('klcc-live'), await idOf('penang-arts')];
    const adminA = await signIn(a.url, EMAILS.orgA);
    const adminB = await signIn(a.url, EMAILS.orgB);
    const ofA = follow(b, adminA.token, orgA);
    const ofB = follow(b, adminB.token, orgB);
    await untilLive(ofA, await firstOf('Venue', orgA), adminA.headers);
    await untilLive(ofB, await firstOf('Venue', orgB), adminB.headers);

    // An event of A with four seats on sale, and two customers.
    const event = await createEvent(database.url, 4);
    await sqlRows(
      database.url,
      `UPDATE "Event" SET "organizationId" = $2,
         "venueId" = (SELECT id FROM "Venue" WHERE "organizationId" = $2 ORDER BY name LIMIT 1) WHERE id = $1`,
      [event.id, orgA],
    );
    const [first, second] = await createCustomers(database.url, 2);
    const seatsNow = async (counts: Record<string, number>, label: string) => {
      await waitUntil(
        () => withAction(ofA, 'SEATS_CHANGED').some((x) => JSON.stringify(x.seats) === JSON.stringify(counts)),
        5_000,
        label,
      );
    };

    const hold = dataOf(
      await gql(a.url, HOLD, { eventId: event.id, seatIds: event.seatIds.slice(0, 2) }, first!.headers),
    );
    await seatsNow({ holds: 1, bookings: 0, heldSeats: 2, bookedSeats: 0, availableSeats: 2 }, 'the hold on B');
    const holdId = (hold as { holdSeats: { id: string } }).holdSeats.id;
    dataOf(await gql(a.url, CONFIRM, { holdId, key: 'activity-booking-1' }, first!.headers));
    await seatsNow({ holds: 0, bookings: 1, heldSeats: 0, bookedSeats: 2, availableSeats: 2 }, 'the booking on B');
    dataOf(await gql(a.url, HOLD, { eventId: event.id, seatIds: [event.seatIds[2]!] }, second!.headers));
    await seatsNow({ holds: 1, bookings: 1, heldSeats: 1, bookedSeats: 2, availableSeats: 1 }, 'a second hold on B');
    const seatActivity = withAction(ofA, 'SEATS_CHANGED');
    expect(seatActivity.every((x) => x.organizationId === orgA && x.targetId === event.id)).toBe(true);

    // Stock above the threshold (5 by default) raises nothing; taking it to the threshold raises one alert.
    const product = await firstOf('Product', orgA);
    const [{ reserved }] = (await sqlRows<{ reserved: number }>(
      database.url,
      `SELECT reserved FROM "Inventory" WHERE "productId" = $1`,
      [product],
    )) as [{ reserved: number }];
    const setStock = (onHand: number) =>
      gql(a.url, `mutation { setStock(productId: "${product}", onHand: ${onHand}) { available } }`, {}, adminA.headers);
    dataOf(await setStock(reserved + 40));
    dataOf(await setStock(reserved + 5));
    await waitUntil(() => withAction(ofA, 'LOW_STOCK').length > 0, 5_000, 'the low-stock alert on B');
    await sleep(300);
    expect(withAction(ofA, 'LOW_STOCK')).toEqual([
      expect.objectContaining({
        organizationId: orgA,
        targetType: 'Product',
        targetId: String(product),
        stock: { available: 5, onHand: reserved + 5, reserved, threshold: 5 },
      }),
    ]);
    // Every STOCK_SET was heard too: the alert is for the second one only.
    expect(withAction(ofA, 'STOCK_SET')).toHaveLength(2);
    expect(ofB.data.map((d) => d.organizationActivity)).toEqual([]);
  });
});
