// Live ticketing queries answer from the seeded PostgreSQL: event (the 2,560-seat Merdeka Night
// Concert), its seats and sections, events (a cursor connection) and venue.
import { beforeAll, describe, expect, it } from 'vitest';
import { DECIMAL_STRING, useSharedGateway, useSql } from './helpers.ts';
import { dataOf } from '../support/kit.ts';

const gateway = useSharedGateway();
const sql = useSql();

interface EventRow {
  id: string;
  name: string;
  status: string;
  capacity: number;
  venueId: string;
  organizationId: string;
}

let merdeka: EventRow;

beforeAll(async () => {
  const [row] = await sql<EventRow>(
    `SELECT id, name, status, capacity, "venueId", "organizationId" FROM "Event" WHERE name = 'Merdeka Night Concert'`,
  );
  if (!row) throw new Error('the seed has no "Merdeka Night Concert"');
  merdeka = row;
});

interface EventData {
  event: {
    id: string;
    name: string;
    status: string;
    capacity: number;
    startsAt: string;
    availableSeats: number;
    venue: { id: string; name: string; city: string; capacity: number; organization: { id: string } };
    organization: { id: string; slug: string; name: string };
    seats: {
      id: string;
      section: string;
      row: string;
      number: number;
      price: string;
      status: string;
      event?: { id: string };
    }[];
    sections: { name: string; total: number; available: number; minPrice: string; maxPrice: string }[];
  } | null;
}

describe('event(id)', () => {
  it('returns the Merdeka Night Concert with its venue, organization and 2,560 seats', async () => {
    const [venue] = await sql<{ name: string; city: string; capacity: number }>(
      'SELECT name, city, capacity FROM "Venue" WHERE id = $1',
      [merdeka.venueId],
    );
    const [org] = await sql<{ slug: string; name: string }>('SELECT slug, name FROM "Organization" WHERE id = $1', [
      merdeka.organizationId,
    ]);
    const [available] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Seat" WHERE "eventId" = $1 AND status = 'AVAILABLE'`,
      [merdeka.id],
    );
    const data = dataOf(
      await gateway().query<EventData>(
        `query ($id: ID!) {
          event(id: $id) {
            id name status capacity startsAt availableSeats
            venue { id name city capacity organization { id } }
            organization { id slug name }
            seats { id section row number price status }
            sections { name total available minPrice maxPrice }
          }
        }`,
        { id: merdeka.id },
      ),
    );
    const event = data.event;
    expect(event).toMatchObject({
      id: merdeka.id,
      name: 'Merdeka Night Concert',
      status: merdeka.status,
      capacity: merdeka.capacity,
    });
    expect(event?.startsAt).toBe('2027-08-31T13:00:00.000Z');
    expect(event?.venue).toEqual({ id: merdeka.venueId, ...venue, organization: { id: merdeka.organizationId } });
    expect(event?.organization).toEqual({ id: merdeka.organizationId, ...org });
    expect(event?.seats).toHaveLength(2560);
    expect(new Set(event?.seats.map((s) => s.id)).size).toBe(2560);
    expect(event?.availableSeats).toBe(available?.n);
    for (const seat of event?.seats ?? []) expect(seat.price).toMatch(DECIMAL_STRING);
  });

  it('has 8 sections A..H whose totals add up to the seats, with prices from PostgreSQL', async () => {
    const rows = await sql<{ section: string; total: number; available: number; min: string; max: string }>(
      `SELECT section, count(*)::int AS total, count(*) FILTER (WHERE status = 'AVAILABLE')::int AS available,
              min(price)::text AS min, max(price)::text AS max
       FROM "Seat" WHERE "eventId" = $1 GROUP BY section ORDER BY section`,
      [merdeka.id],
    );
    const data = dataOf(
      await gateway().query<EventData>(
        'query ($id: ID!) { event(id: $id) { availableSeats sections { name total available minPrice maxPrice } } }',
        { id: merdeka.id },
      ),
    );
    const sections = data.event?.sections ?? [];
    expect(sections.map((s) => s.name)).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H']);
    expect(sections.reduce((sum, s) => sum + s.total, 0)).toBe(2560);
    expect(sections.reduce((sum, s) => sum + s.available, 0)).toBe(data.event?.availableSeats);
    expect(sections).toEqual(
      rows.map((r) => ({ name: r.section, total: r.total, available: r.available, minPrice: r.min, maxPrice: r.max })),
    );
    expect(sections.find((s) => s.name === 'A')).toMatchObject({ total: 320, minPrice: '688.00', maxPrice: '688.00' });
  });

  it('seats(section: "A") returns only section A, ordered by row and number', async () => {
    const rows = await sql<{ id: string }>(
      `SELECT id FROM "Seat" WHERE "eventId" = $1 AND section = 'A' ORDER BY row, number`,
      [merdeka.id],
    );
    const data = dataOf(
      await gateway().query<EventData>(
        'query ($id: ID!) { event(id: $id) { seats(section: "A") { id section row number price status event { id } ' +
          '} } }',
        { id: merdeka.id },
      ),
    );
    const seats = data.event?.seats ?? [];
    expect(seats).toHaveLength(320);
    expect(seats.every((s) => s.section === 'A' && s.price === '688.00' && s.event?.id === merdeka.id)).toBe(true);
    expect(seats.map((s) => s.id)).toEqual(rows.map((r) => r.id));
  });

  it('seats(status: AVAILABLE) counts what availableSeats says', async () => {
    const data = dataOf(
      await gateway().query<EventData>(
        'query ($id: ID!) { event(id: $id) { availableSeats seats(status: AVAILABLE) { status } } }',
        { id: merdeka.id },
      ),
    );
    expect(data.event?.seats.every((s) => s.status === 'AVAILABLE')).toBe(true);
    expect(data.event?.seats).toHaveLength(data.event?.availableSeats ?? -1);
  });
});

describe('events(first, after)', () => {
  interface EventsData {
    events: {
      totalCount: number;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
      edges: { cursor: string; node: { id: string; startsAt: string } }[];
    };
  }
  const EVENTS =
    'query ($first: Int, $after: String, $filter: EventFilter) { events(first: $first, after: $after, filter: ' +
    '$filter) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id startsAt } } } }';

  // Anonymous requests: DRAFT events exist only for their organization's admins, so they are not listed.
  it('pages through every public event soonest first with endCursor: no duplicates, no gaps', async () => {
    const expected = (
      await sql<{ id: string }>(`SELECT id FROM "Event" WHERE status <> 'DRAFT' ORDER BY "startsAt", id`)
    ).map((r) => r.id);
    expect(expected.length).toBeGreaterThan(2);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page += 1) {
      const data: EventsData = dataOf(await gateway().query<EventsData>(EVENTS, { first: 2, after }));
      expect(data.events.totalCount).toBe(expected.length);
      seen.push(...data.events.edges.map((e) => e.node.id));
      expect(data.events.pageInfo.endCursor).toBe(data.events.edges.at(-1)?.cursor ?? null);
      if (!data.events.pageInfo.hasNextPage) break;
      after = data.events.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('filters by venue, counting what SQL counts', async () => {
    const [expected] = await sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Event" WHERE "venueId" = $1 AND status <> 'DRAFT'`,
      [merdeka.venueId],
    );
    const data = dataOf(await gateway().query<EventsData>(EVENTS, { first: 10, filter: { venueId: merdeka.venueId } }));
    expect(data.events.totalCount).toBe(expected?.n);
    expect(data.events.edges.map((e) => e.node.id)).toContain(merdeka.id);
  });
});

describe('venue(id)', () => {
  it("returns the Merdeka Night Concert's venue with its organization and events", async () => {
    const [venue] = await sql<{ name: string; city: string; capacity: number }>(
      'SELECT name, city, capacity FROM "Venue" WHERE id = $1',
      [merdeka.venueId],
    );
    const events = (
      await sql<{ id: string }>(
        `SELECT id FROM "Event" WHERE "venueId" = $1 AND status <> 'DRAFT' ORDER BY "startsAt", id`,
        [merdeka.venueId],
      )
    ).map((r) => r.id);
    const data = dataOf(
      await gateway().query<{
        venue: {
          id: string;
          name: string;
          city: string;
          capacity: number;
          organization: { id: string };
          events: { id: string }[];
        } | null;
      }>('query ($id: ID!) { venue(id: $id) { id name city capacity organization { id } events { id } } }', {
        id: merdeka.venueId,
      }),
    );
    expect(data.venue).toEqual({
      id: merdeka.venueId,
      ...venue,
      organization: { id: merdeka.organizationId },
      events: events.map((id) => ({ id })),
    });
  });
});
