// organizationActivity (src/accounts/organization-activity.ts) over graphql-ws on two gateways sharing
// Redis: A's admin, subscribed on instance B, receives a product change that A's admin made on instance
// A; B's admin, subscribed to B's activity, receives nothing; B's admin may not subscribe to A's.
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, signIn, sleep, waitUntil } from '../support/kit.ts';
import { EMAILS, sqlRows } from './kit.ts';

let database: TestDatabase;
let a: TestGateway;
let b: TestGateway;
const clients: Client[] = [];
const ACTIVITY = `subscription S($o: ID!) { organizationActivity(organizationId: $o) {
  organizationId action targetType targetId at } }`;

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
    const idOf = async (slug: string) =>
      (await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Organization" WHERE slug = $1`, [slug]))[0]!.id;
    const [orgA, orgB] = [await idOf('klcc-live'), await idOf('penang-arts')];
    const product = (
      await sqlRows<{ id: number }>(database.url, `SELECT id FROM "Product" WHERE "organizationId" = $1 LIMIT 1`, [
        orgA,
      ])
    )[0]!.id;
    const adminA = await signIn(a.url, EMAILS.orgA);
    const adminB = await signIn(a.url, EMAILS.orgB);

    const ofA = follow(b, adminA.token, orgA);
    const ofB = follow(b, adminB.token, orgB);
    const intruder = follow(b, adminB.token, orgA);
    await waitUntil(() => intruder.errors.length > 0, 5_000, "the refusal of B's subscription to A");
    expect(intruder.errors.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    // The subscriptions are in place once a change of B's own reaches B's subscriber.
    const venueB = (
      await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Venue" WHERE "organizationId" = $1 LIMIT 1`, [orgB])
    )[0]!.id;
    await waitUntil(
      async () => {
        dataOf(
          await gql(
            a.url,
            `mutation { updateVenue(id: "${venueB}", input: { capacity: 321 }) { id } }`,
            {},
            adminB.headers,
          ),
        );
        return ofB.data.length > 0;
      },
      5_000,
      'the subscriptions to start',
      200,
    );
    // Let the last of those announcements arrive before counting from here.
    await sleep(500);
    expect(ofB.data.every((d) => d.organizationActivity.organizationId === orgB)).toBe(true);
    ofB.data.length = 0;
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
});
