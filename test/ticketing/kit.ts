// Shared by the ticketing tests: customers with live sessions made straight in PostgreSQL (signing in 40
// users through scrypt would cost seconds), fresh ON_SALE events with their own seats, the GraphQL
// operations, graphql-ws subscribers that record what they receive, and PostgreSQL's view of a seat map.
// No mocks: real gateways over real PostgreSQL and real redis-server.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, inject } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, type TestDatabase, withPg } from '../support/database.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, type RedisServer } from '../support/redis-server.ts';

export interface Customer {
  userId: string;
  headers: Record<string, string>;
  token: string;
}

/** Inserts `count` CUSTOMER users, each with a session valid for an hour. */
export async function createCustomers(databaseUrl: string, count: number): Promise<Customer[]> {
  const customers = Array.from({ length: count }, () => {
    const token = randomBytes(32).toString('base64url');
    return { userId: randomUUID(), token, headers: { authorization: `Bearer ${token}` } };
  });
  await withPg(databaseUrl, async (client) => {
    await client.query(
      `INSERT INTO "User" (id, email, "passwordHash", "displayName", role, "updatedAt")
       SELECT id, 'buyer-' || id || '@ticketing.test', 'not-a-hash', 'Buyer', 'CUSTOMER', now()
       FROM unnest($1::uuid[]) AS id`,
      [customers.map((c) => c.userId)],
    );
    await client.query(
      `INSERT INTO "Session" (id, "tokenHash", "userId", "expiresAt")
       SELECT gen_random_uuid(), h, u, now() + interval '1 hour' FROM unnest($1::text[], $2::uuid[]) AS t(h, u)`,
      [customers.map((c) => createHash('sha256').update(c.token).digest('hex')), customers.map((c) => c.userId)],
    );
  });
  return customers;
}

export interface Fixture {
  /** A private redis-server: tests may stop and start it. */
  redis: RedisServer;
  /** A private copy of the seeded database. */
  database: TestDatabase;
  gateway: TestGateway;
  customers: Customer[];
}

/**
 * A test file's private redis-server, database and gateway (with `env` settings), with `customers` customers;
 * torn down after.
 */
export function useFixture(customers: number, env?: Record<string, string>): Fixture {
  const fixture = {} as Fixture;
  beforeAll(async () => {
    fixture.redis = await startRedis();
    fixture.database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
    const { url: databaseUrl } = fixture.database;
    fixture.gateway = await startTestGateway({ databaseUrl, redisUrl: fixture.redis.url, ...(env && { env }) });
    fixture.customers = await createCustomers(fixture.database.url, customers);
  });
  afterAll(async () => {
    await fixture.gateway?.stop();
    await fixture.redis?.destroy();
    await fixture.database?.drop();
  });
  return fixture;
}

export interface TestEvent {
  id: string;
  seatIds: string[];
}

/** A new ON_SALE event at a seeded venue with `seats` seats in one section, row by row of 10. */
export async function createEvent(databaseUrl: string, seats: number): Promise<TestEvent> {
  const id = randomUUID();
  const seatIds = Array.from({ length: seats }, () => randomUUID());
  await withPg(databaseUrl, async (client) => {
    await client.query(
      `INSERT INTO "Event" (id, "organizationId", "venueId", name, "startsAt", "salesOpenAt", "salesCloseAt", status,
         capacity, "updatedAt")
       SELECT $1::uuid, v."organizationId", v.id, 'Ticketing test ' || $1::text, now() + interval '30 days',
         now() - interval '1 day', now() + interval '29 days', 'ON_SALE', $2, now()
       FROM "Venue" v ORDER BY v.name LIMIT 1`,
      [id, seats],
    );
    await client.query(
      `INSERT INTO "Seat" (id, "eventId", section, row, number, price, "updatedAt")
       SELECT s, $1::uuid, 'A', ((n - 1) / 10 + 1)::text, ((n - 1) % 10 + 1), 100, now()
       FROM unnest($2::uuid[]) WITH ORDINALITY AS t(s, n)`,
      [id, seatIds],
    );
  });
  return { id, seatIds };
}

export type SeatMap = Map<string, string>;

/** The event's seat statuses as PostgreSQL has them. */
export async function seatMapInPostgres(databaseUrl: string, eventId: string): Promise<SeatMap> {
  return withPg(databaseUrl, async (client) => {
    const { rows } = await client.query<{ id: string; status: string }>(
      'SELECT id::text, status::text FROM "Seat" WHERE "eventId" = $1',
      [eventId],
    );
    return new Map(rows.map((r) => [r.id, r.status]));
  });
}

export const HOLD = /* GraphQL */ `
  mutation Hold($eventId: ID!, $seatIds: [ID!]!) {
    holdSeats(eventId: $eventId, seatIds: $seatIds) { id expiresAt status seats { id status } }
  }
`;
export const CONFIRM = /* GraphQL */ `
  mutation Confirm($holdId: ID!, $key: String!) {
    confirmBooking(holdId: $holdId, idempotencyKey: $key) { id reference status total seats { id status } }
  }
`;
export const CANCEL = /* GraphQL */ `
  mutation Cancel($id: ID!) { cancelBooking(bookingId: $id) { id status } }
`;
export const AVAILABILITY = /* GraphQL */ `
  query Availability($id: ID!) {
    event(id: $id) { status availableSeats availability { total available held booked } seats { id status } }
  }
`;

export interface HoldReply {
  holdSeats?: { id: string; expiresAt: string; status: string; seats: { id: string; status: string }[] };
}

export interface SeatChange {
  eventId: string;
  sequence: number;
  snapshot: boolean;
  seats: { id: string; status: string }[];
}

export const SEATS_CHANGED = /* GraphQL */ `
  subscription Seats($eventId: ID!, $after: Int) {
    seatsChanged(eventId: $eventId, afterSequence: $after) { eventId sequence snapshot seats { id status } }
  }
`;

export function wsUrl(gateway: TestGateway): string {
  return gateway.url.replace(/^http/, 'ws');
}

/** A graphql-ws client that records every result of one subscription. */
export interface Recorder<T> {
  client: Client;
  received: T[];
  errors: unknown[];
  done: Promise<void>;
  close(): Promise<void>;
}

export function subscribe<T>(
  gateway: TestGateway,
  query: string,
  variables: Record<string, unknown>,
  pick: (data: Record<string, unknown>) => T,
  headers?: Record<string, string>,
): Recorder<T> {
  const client = createClient({
    url: wsUrl(gateway),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    ...(headers && { connectionParams: { authorization: headers.authorization } }),
  });
  const received: T[] = [];
  const errors: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    client.subscribe(
      { query, variables },
      {
        next: (result) => {
          if (result.errors) errors.push(...result.errors);
          if (result.data) received.push(pick(result.data as Record<string, unknown>));
        },
        error: (error) => {
          errors.push(error);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return {
    client,
    received,
    errors,
    done,
    close: () => client.dispose() as Promise<void>,
  };
}

/** A new event with `seats` seats, and a seatsChanged recorder for it on `gateway`. */
export async function eventWithRecorder(
  gateway: TestGateway,
  databaseUrl: string,
  seats: number,
): Promise<{ event: TestEvent; recorder: Recorder<SeatChange> }> {
  const event = await createEvent(databaseUrl, seats);
  const recorder = subscribe(gateway, SEATS_CHANGED, { eventId: event.id }, (d) => d.seatsChanged as SeatChange);
  return { event, recorder };
}

/** Applies seat changes in order to a map (a snapshot replaces it). */
export function applyChanges(map: SeatMap, changes: readonly SeatChange[]): SeatMap {
  const result = new Map(map);
  for (const change of changes) {
    if (change.snapshot) result.clear();
    for (const seat of change.seats) result.set(seat.id, seat.status);
  }
  return result;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true, or throws after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Whether the gateway's Redis circuit is closed again (its /metrics says so). */
export async function redisAnswers(gateway: TestGateway): Promise<boolean> {
  const metrics = await (await fetch(gateway.url.replace(/\/graphql$/, '/metrics'))).text();
  return /cachegate_redis_circuit_open\S* 0/.test(metrics);
}
