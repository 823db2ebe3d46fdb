// Ticketing: three organizations with two venues each, their events, and every event's seat map.
// "Merdeka Night Concert" is the one large event (2,560 seats) at both scales: load tests and the seat
// map UI rely on it, so its layout is fixed rather than random.
import type pg from 'pg';
import { bulkInsert } from './bulk.ts';
import { rngFor, type Rng } from './random.ts';
import { DAY_MS, HOUR_MS, seedTime, utc } from './time.ts';
import type { SeedScale } from './types.ts';

export const MERDEKA_EVENT_NAME = 'Merdeka Night Concert';

const EVENT_COUNT: Readonly<Record<SeedScale, number>> = { full: 24, small: 6 };
const DRAFT_EVENT_COUNT: Readonly<Record<SeedScale, number>> = { full: 2, small: 1 };

const SALES_OPEN_AT = utc(2026, 6, 1);
/** Events start between these dates (inclusive), in the evening, Malaysia time (UTC+8). */
const FIRST_EVENT_DAY_MS = Date.UTC(2027, 0, 15);
const LAST_EVENT_DAY_MS = Date.UTC(2027, 11, 31);
const EVENING_START_HOURS_UTC: readonly number[] = [11, 12, 13]; // 19:00, 20:00, 21:00 MYT

/** Merdeka Night: sections A..H (front to back) x rows 1..16 x seats 1..20, priced by section in RM. */
const MERDEKA_SECTION_PRICES: readonly (readonly [section: string, price: number])[] = [
  ['A', 688],
  ['B', 588],
  ['C', 488],
  ['D', 388],
  ['E', 288],
  ['F', 228],
  ['G', 168],
  ['H', 128],
];
const MERDEKA_ROWS = 16;
const MERDEKA_SEATS_PER_ROW = 20;
const MERDEKA_STARTS_AT = utc(2027, 8, 31, 13); // 21:00 MYT on Merdeka Day

type EventStatus = 'DRAFT' | 'ON_SALE' | 'SOLD_OUT';

interface VenueSpec {
  name: string;
  /** Spelled as in malaysia-postcodes, so a venue's city matches the postcode reference data. */
  city: string;
  capacity: number;
}

interface OrganizationSpec {
  slug: string;
  name: string;
  venues: readonly [VenueSpec, VenueSpec];
  /** Names for this organization's events, used in order. */
  eventNames: readonly string[];
}

export const ORGANIZATIONS: readonly OrganizationSpec[] = [
  {
    slug: 'klcc-live',
    name: 'KLCC Live Sdn Bhd',
    venues: [
      { name: 'KLCC Grand Hall', city: 'Kuala Lumpur', capacity: 3_000 },
      { name: 'Petaling Jaya Civic Arena', city: 'Petaling Jaya', capacity: 1_800 },
    ],
    eventNames: [
      'Kuala Lumpur Symphony Gala',
      'Bollywood Nights KL',
      'Indie Malaysia Live',
      'Comedy Court KL',
      'Malam Keroncong',
      'Deepavali Lights Concert',
      'Retro Disco Night KL',
      'K-Pop Dance Cover Battle',
    ],
  },
  {
    slug: 'penang-arts',
    name: 'Penang Arts Collective',
    venues: [
      { name: 'George Town Heritage Theatre', city: 'Pulau Pinang', capacity: 800 },
      { name: 'Butterworth Waterfront Stage', city: 'Butterworth', capacity: 1_200 },
    ],
    eventNames: [
      'Penang Jazz by the Sea',
      'George Town Lantern Night',
      'Chinese Opera Night',
      'Wayang Kulit Under the Stars',
      'Nyonya Heritage Musical',
      'Dondang Sayang Evening',
      'Penang Chamber Orchestra',
      'Butterworth Street Beats',
    ],
  },
  {
    slug: 'borneo-events',
    name: 'Borneo Events Sdn Bhd',
    venues: [
      { name: 'Kota Kinabalu Harbour Hall', city: 'Kota Kinabalu', capacity: 1_500 },
      { name: 'Kuching Riverside Arena', city: 'Kuching', capacity: 2_000 },
    ],
    eventNames: [
      'Rainforest Rhythms',
      'Borneo Beats Festival',
      'Sape Strings of Sarawak',
      'Kinabalu Sunrise Sessions',
      'Harvest Festival Gala',
      'Kota Kinabalu Comedy Night',
      'Sarawak Cultural Night',
      'Kuching Waterfront Jazz',
    ],
  },
];

export interface OrganizationRow {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface VenueRow {
  id: string;
  organizationId: string;
  name: string;
  city: string;
  capacity: number;
  createdAt: string;
  updatedAt: string;
}

export interface EventRow {
  id: string;
  organizationId: string;
  venueId: string;
  name: string;
  startsAt: string;
  salesOpenAt: string;
  salesCloseAt: string;
  status: EventStatus;
  capacity: number;
  createdAt: string;
  updatedAt: string;
}

export interface SeatRow {
  id: string;
  eventId: string;
  section: string;
  row: string;
  number: number;
  price: string;
  status: 'AVAILABLE' | 'BOOKED';
  updatedAt: string;
}

export interface BookingRow {
  id: string;
  reference: string;
  eventId: string;
  userId: string;
  status: 'CONFIRMED';
  total: string;
  idempotencyKey: string;
  createdAt: string;
  updatedAt: string;
}

export interface BookingSeatRow {
  bookingId: string;
  seatId: string;
  price: string;
}

export interface BookingPlan {
  bookings: BookingRow[];
  bookingSeats: BookingSeatRow[];
}

/** Seats per seeded booking: the default per-customer limit. */
const SEATS_PER_BOOKING = 10;

export interface TicketingPlan {
  organizations: OrganizationRow[];
  venues: VenueRow[];
  events: EventRow[];
  seats: SeatRow[];
}

/** Organizations and venues are the same at both scales (same ids), so scale only changes the event list. */
function planOrganizations(): { organizations: OrganizationRow[]; venues: VenueRow[] } {
  const orgRng = rngFor('ticketing.organizations');
  const venueRng = rngFor('ticketing.venues');
  const organizations = ORGANIZATIONS.map((spec, i) => {
    const createdAt = seedTime(i * HOUR_MS);
    return { id: orgRng.uuid(), slug: spec.slug, name: spec.name, createdAt, updatedAt: createdAt };
  });
  const venues = ORGANIZATIONS.flatMap((spec, i) =>
    spec.venues.map((venue, j) => {
      const createdAt = seedTime(DAY_MS + (i * 2 + j) * HOUR_MS);
      return {
        id: venueRng.uuid(),
        organizationId: organizations[i]?.id ?? '',
        ...venue,
        createdAt,
        updatedAt: createdAt,
      };
    }),
  );
  return { organizations, venues };
}

function randomEveningStart(rng: Rng): string {
  const days = (LAST_EVENT_DAY_MS - FIRST_EVENT_DAY_MS) / DAY_MS;
  const dayMs = FIRST_EVENT_DAY_MS + rng.int(0, days) * DAY_MS;
  return new Date(dayMs + rng.pick(EVENING_START_HOURS_UTC) * HOUR_MS + rng.pick([0, 30]) * 60_000).toISOString();
}

/** The first non-Merdeka event is sold out, the last few are drafts, the rest are on sale. */
function statusFor(otherIndex: number, otherCount: number, draftCount: number): EventStatus {
  if (otherIndex === 0) return 'SOLD_OUT';
  return otherIndex >= otherCount - draftCount ? 'DRAFT' : 'ON_SALE';
}

interface EventDraft {
  row: EventRow;
  seats: SeatRow[];
}

function merdekaSeats(rng: Rng, eventId: string, updatedAt: string): SeatRow[] {
  const seats: SeatRow[] = [];
  for (const [section, price] of MERDEKA_SECTION_PRICES) {
    for (let row = 1; row <= MERDEKA_ROWS; row++) {
      for (let number = 1; number <= MERDEKA_SEATS_PER_ROW; number++) {
        seats.push({
          id: rng.uuid(),
          eventId,
          section,
          row: String(row),
          number,
          price: `${price}.00`,
          status: 'AVAILABLE',
          updatedAt,
        });
      }
    }
  }
  return seats;
}

/** 5..10 rows of 10..20 seats (50..200 in all): the front one or two rows are VIP at twice the price. */
function smallEventSeats(rng: Rng, eventId: string, updatedAt: string): SeatRow[] {
  const rowCount = rng.int(5, 10);
  const seatsPerRow = rng.int(10, 20);
  const vipRows = rng.int(1, 2);
  const generalPrice = rng.int(6, 25) * 10;
  const seats: SeatRow[] = [];
  for (let r = 1; r <= rowCount; r++) {
    const vip = r <= vipRows;
    const section = vip ? 'VIP' : 'GENERAL';
    const row = String(vip ? r : r - vipRows);
    const price = `${vip ? generalPrice * 2 : generalPrice}.00`;
    for (let number = 1; number <= seatsPerRow; number++) {
      seats.push({ id: rng.uuid(), eventId, section, row, number, price, status: 'AVAILABLE', updatedAt });
    }
  }
  return seats;
}

function eventRow(
  fields: Pick<EventRow, 'id' | 'organizationId' | 'venueId' | 'name' | 'startsAt' | 'status'>,
  index: number,
  capacity: number,
): EventRow {
  const createdAt = seedTime(7 * DAY_MS + index * HOUR_MS);
  return {
    ...fields,
    salesOpenAt: SALES_OPEN_AT,
    salesCloseAt: fields.startsAt,
    capacity,
    createdAt,
    updatedAt: createdAt,
  };
}

function planEvents(
  scale: SeedScale,
  organizations: readonly OrganizationRow[],
  venues: readonly VenueRow[],
): EventDraft[] {
  const eventRng = rngFor('ticketing.events');
  const seatRng = rngFor('ticketing.seats');
  const venuesOf = (orgIndex: number): VenueRow[] =>
    venues.filter((v) => v.organizationId === organizations[orgIndex]?.id);

  // Merdeka first: its ids and seats come first in their streams, so they are identical at both scales.
  const merdekaId = eventRng.uuid();
  const merdekaVenue = venuesOf(0)[0];
  if (!merdekaVenue) throw new Error('klcc-live has no venue');
  const merdekaSeatRows = merdekaSeats(seatRng, merdekaId, seedTime(7 * DAY_MS));
  const drafts: EventDraft[] = [
    {
      row: eventRow(
        {
          id: merdekaId,
          organizationId: merdekaVenue.organizationId,
          venueId: merdekaVenue.id,
          name: MERDEKA_EVENT_NAME,
          startsAt: MERDEKA_STARTS_AT,
          status: 'ON_SALE',
        },
        0,
        merdekaSeatRows.length,
      ),
      seats: merdekaSeatRows,
    },
  ];

  const otherCount = EVENT_COUNT[scale] - 1;
  for (let k = 0; k < otherCount; k++) {
    const orgIndex = k % ORGANIZATIONS.length; // round-robin over organizations
    const name = ORGANIZATIONS[orgIndex]?.eventNames[Math.floor(k / ORGANIZATIONS.length)];
    if (!name) throw new Error(`not enough event names for organization #${orgIndex}`);
    const venue = eventRng.pick(venuesOf(orgIndex));
    const id = eventRng.uuid();
    const index = drafts.length;
    const seats = smallEventSeats(seatRng, id, seedTime(7 * DAY_MS + index * HOUR_MS));
    const status = statusFor(k, otherCount, DRAFT_EVENT_COUNT[scale]);
    drafts.push({
      row: eventRow(
        {
          id,
          organizationId: venue.organizationId,
          venueId: venue.id,
          name,
          startsAt: randomEveningStart(eventRng),
          status,
        },
        index,
        seats.length,
      ),
      seats,
    });
  }
  return drafts;
}

export function planTicketing(scale: SeedScale): TicketingPlan {
  const { organizations, venues } = planOrganizations();
  const drafts = planEvents(scale, organizations, venues);
  return { organizations, venues, events: drafts.map((d) => d.row), seats: drafts.flatMap((d) => d.seats) };
}

export async function insertOrganizations(client: pg.ClientBase, plan: TicketingPlan): Promise<void> {
  await bulkInsert(
    client,
    'Organization',
    { id: 'uuid', slug: 'text', name: 'text', createdAt: 'timestamptz', updatedAt: 'timestamptz' },
    plan.organizations,
  );
}

export async function insertVenuesEventsSeats(client: pg.ClientBase, plan: TicketingPlan): Promise<void> {
  await bulkInsert(
    client,
    'Venue',
    {
      id: 'uuid',
      organizationId: 'uuid',
      name: 'text',
      city: 'text',
      capacity: 'int',
      createdAt: 'timestamptz',
      updatedAt: 'timestamptz',
    },
    plan.venues,
  );
  await bulkInsert(
    client,
    'Event',
    {
      id: 'uuid',
      organizationId: 'uuid',
      venueId: 'uuid',
      name: 'text',
      startsAt: 'timestamptz',
      salesOpenAt: 'timestamptz',
      salesCloseAt: 'timestamptz',
      status: '"EventStatus"',
      capacity: 'int',
      createdAt: 'timestamptz',
      updatedAt: 'timestamptz',
    },
    plan.events,
  );
  // holdId is left to its NULL default: no seeded seat is HELD (the Seat_hold_matches_status CHECK).
  await bulkInsert(
    client,
    'Seat',
    {
      id: 'uuid',
      eventId: 'uuid',
      section: 'text',
      row: 'text',
      number: 'int',
      price: 'numeric',
      status: '"SeatStatus"',
      updatedAt: 'timestamptz',
    },
    plan.seats,
  );
}

/**
 * A SOLD_OUT event really is sold out: every one of its seats is BOOKED, in bookings of up to ten seats
 * spread over the customers in turn. Marks those seats BOOKED in the plan.
 */
export function planSoldOutBookings(plan: TicketingPlan, customerIds: readonly string[]): BookingPlan {
  if (customerIds.length === 0) throw new Error('bookings need at least one customer');
  const rng = rngFor('ticketing.bookings');
  const result: BookingPlan = { bookings: [], bookingSeats: [] };
  for (const event of plan.events.filter((e) => e.status === 'SOLD_OUT')) {
    const seats = plan.seats.filter((s) => s.eventId === event.id);
    for (let start = 0; start < seats.length; start += SEATS_PER_BOOKING) {
      const chunk = seats.slice(start, start + SEATS_PER_BOOKING);
      const n = result.bookings.length;
      const id = rng.uuid();
      const cents = chunk.reduce((sum, seat) => sum + Math.round(Number(seat.price) * 100), 0);
      result.bookings.push({
        id,
        reference: `CGSEED${String(n + 1).padStart(4, '0')}`,
        eventId: event.id,
        userId: customerIds[n % customerIds.length]!,
        status: 'CONFIRMED',
        total: (cents / 100).toFixed(2),
        idempotencyKey: `seed-${id}`,
        createdAt: event.createdAt,
        updatedAt: event.createdAt,
      });
      for (const seat of chunk) {
        seat.status = 'BOOKED';
        result.bookingSeats.push({ bookingId: id, seatId: seat.id, price: seat.price });
      }
    }
  }
  return result;
}

export async function insertBookings(client: pg.ClientBase, plan: BookingPlan): Promise<void> {
  await bulkInsert(
    client,
    'Booking',
    {
      id: 'uuid',
      reference: 'text',
      eventId: 'uuid',
      userId: 'uuid',
      status: '"BookingStatus"',
      total: 'numeric',
      idempotencyKey: 'text',
      createdAt: 'timestamptz',
      updatedAt: 'timestamptz',
    },
    plan.bookings,
  );
  await bulkInsert(client, 'BookingSeat', { bookingId: 'uuid', seatId: 'uuid', price: 'numeric' }, plan.bookingSeats);
}
