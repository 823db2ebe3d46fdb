// Seat-map views derived from an event's seats (one cached relation entry): filters and per-section
// summaries are computed in memory rather than with more SQL.
import type { Decimal } from '@prisma/client/runtime/client';
import type { Seat, SeatStatus } from '../generated/prisma/client.ts';
import type { Availability } from '../realtime/seat-changes.ts';

export interface SeatSectionSummary {
  name: string;
  total: number;
  available: number;
  minPrice: Decimal;
  maxPrice: Decimal;
}

/** Event.availability: counted from the cached seat map, so a warm read costs no SQL. */
export function availabilityOf(eventId: string, seats: readonly Seat[]): Availability {
  const counts = { AVAILABLE: 0, HELD: 0, BOOKED: 0 };
  for (const seat of seats) counts[seat.status] += 1;
  return { eventId, total: seats.length, available: counts.AVAILABLE, held: counts.HELD, booked: counts.BOOKED };
}

export function filterSeats(seats: readonly Seat[], section?: string | null, status?: SeatStatus | null): Seat[] {
  return seats.filter((s) => (section == null || s.section === section) && (status == null || s.status === status));
}

export function summariseSections(seats: readonly Seat[]): SeatSectionSummary[] {
  const sections = new Map<string, SeatSectionSummary>();
  for (const seat of seats) {
    const summary = sections.get(seat.section);
    if (!summary) {
      sections.set(seat.section, {
        name: seat.section,
        total: 1,
        available: seat.status === 'AVAILABLE' ? 1 : 0,
        minPrice: seat.price,
        maxPrice: seat.price,
      });
      continue;
    }
    summary.total += 1;
    if (seat.status === 'AVAILABLE') summary.available += 1;
    if (seat.price.lessThan(summary.minPrice)) summary.minPrice = seat.price;
    if (seat.price.greaterThan(summary.maxPrice)) summary.maxPrice = seat.price;
  }
  return [...sections.values()].sort((a, b) => a.name.localeCompare(b.name));
}
