// The 2,560-seat Merdeka Night Concert with its sections, every seat, venue and organization loads with
// a constant number of SQL queries (one per entity type: Event, Seat, Venue, Organization) on a cold
// cache, and with none while warm. Seats are cached for 5 s (@cacheControl on Event.seats), so the warm
// reads follow the cold one at once.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { dataStatements, showSql, sqlByTable, sqlDuring, withPg, type TestGateway } from './kit.ts';
import { dataOf } from '../support/kit.ts';

const SEAT_MAP = /* GraphQL */ `
  query SeatMap($id: ID!) {
    event(id: $id) {
      id
      name
      sections { name total available minPrice maxPrice }
      seats { id section row number price status }
      venue { id name city }
      organization { id name }
    }
  }
`;

interface SeatMapData {
  event: {
    id: string;
    name: string;
    sections: { name: string; total: number; available: number; minPrice: string; maxPrice: string }[];
    seats: { id: string; section: string; row: string; number: number; price: string; status: string }[];
    venue: { id: string; name: string; city: string };
    organization: { id: string; name: string };
  } | null;
}

const ENTITY_TABLES = ['Event', 'Seat', 'Venue', 'Organization'];

let first: TestGateway;
let second: TestGateway;
let eventId: string;
let expectedSeats: number;

beforeAll(async () => {
  const databaseUrl = inject('databaseUrl');
  const row = await withPg(
    databaseUrl,
    async (c) =>
      (
        await c.query<{ id: string; seats: number }>(
          `SELECT e.id, (SELECT count(*)::int FROM "Seat" s WHERE s."eventId" = e.id) AS seats FROM "Event" e WHERE ` +
            `e.name = 'Merdeka Night Concert'`,
        )
      ).rows[0],
  );
  if (!row) throw new Error('the seed has no "Merdeka Night Concert"');
  eventId = row.id;
  expectedSeats = row.seats;
  const cachePrefix = randomPrefix();
  first = await startTestGateway({ databaseUrl, redisUrl: inject('redisUrl'), cachePrefix });
  second = await startTestGateway({ databaseUrl, redisUrl: inject('redisUrl'), cachePrefix });
});

afterAll(async () => {
  await Promise.allSettled([first?.stop(), second?.stop()]);
});

describe('the Merdeka Night Concert seat map', () => {
  it('loads 2,560 seats, 8 sections, venue and organization with at most 4 SQL queries cold, 0 warm', async () => {
    expect(expectedSeats).toBe(2560);

    const t0 = performance.now();
    const cold = await sqlDuring(first, () => first.query<SeatMapData>(SEAT_MAP, { id: eventId }));
    const coldMs = performance.now() - t0;
    const coldData = dataOf(cold.result);
    const event = coldData.event;
    if (!event) throw new Error('event(id) returned null');
    expect(event.seats).toHaveLength(2560);
    expect(event.sections.map((s) => s.name)).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H']);
    expect(event.sections.reduce((sum, s) => sum + s.total, 0)).toBe(2560);
    expect(event.venue.id).toBeTruthy();
    expect(event.organization.id).toBeTruthy();

    console.log(`[seat-map] cold: ${JSON.stringify(sqlByTable(cold.sql))}`);
    const counts = sqlByTable(dataStatements(cold.sql));
    for (const [table, count] of Object.entries(counts)) {
      expect(ENTITY_TABLES, `unexpected SQL against ${table}:\n${showSql(cold.sql)}`).toContain(table);
      expect(count, `${count} queries against "${table}":\n${showSql(cold.sql)}`).toBeLessThanOrEqual(1);
    }
    expect(dataStatements(cold.sql).length, showSql(cold.sql)).toBeLessThanOrEqual(4);

    // Seats live 5 s (minus jitter) in L1 and Redis: both warm reads start the moment the cold one ends.
    // A: its own L1. B: a second instance with an empty L1 finds all of it in Redis.
    const timed = async (gw: TestGateway) => {
      const started = performance.now();
      const outcome = await sqlDuring(gw, () => gw.query<SeatMapData>(SEAT_MAP, { id: eventId }));
      return { ...outcome, ms: performance.now() - started };
    };
    const [warm, fromRedis] = await Promise.all([timed(first), timed(second)]);
    expect(dataOf(warm.result)).toEqual(coldData);
    expect(dataStatements(warm.sql), `warm seat map went to PostgreSQL:\n${showSql(warm.sql)}`).toEqual([]);
    expect(dataOf(fromRedis.result)).toEqual(coldData);
    expect(dataStatements(fromRedis.sql), `second instance went to PostgreSQL:\n${showSql(fromRedis.sql)}`).toEqual([]);
    console.log(
      `[seat-map] cold ${Math.round(coldMs)} ms; warm: ${warm.sql.length} SQL in ${Math.round(warm.ms)} ms; second ` +
        `instance: ${fromRedis.sql.length} SQL in ${Math.round(fromRedis.ms)} ms`,
    );
  });
});
