// Request-scoped loaders for bookings and holds: private data, so batched per request and never cached across
// requests (no shared cache entry ever holds a customer's booking).
import DataLoader from 'dataloader';
import type { LoaderDeps } from '../cache/loader-factory.ts';
import type { Database } from '../db/prisma.ts';
import { groupBy } from '../db/rows.ts';
import type { Seat } from '../generated/prisma/client.ts';

export interface BookingLoaders {
  seatsOfBooking: DataLoader<string, Seat[], string>;
  seatsOfHold: DataLoader<string, Seat[], string>;
}

export function createBookingLoaders(db: Database, deps: LoaderDeps): BookingLoaders {
  return {
    seatsOfBooking: new DataLoader<string, Seat[], string>(async (bookingIds) => {
      deps.stats.loaderFetches += 1;
      const rows = await db.bookingSeat.findMany({
        where: { bookingId: { in: [...bookingIds] } },
        include: { seat: true },
        orderBy: [{ seat: { section: 'asc' } }, { seat: { row: 'asc' } }, { seat: { number: 'asc' } }],
      });
      const byBooking = groupBy(rows, (r) => r.bookingId);
      return bookingIds.map((id) => (byBooking.get(id) ?? []).map((r) => r.seat));
    }),
    seatsOfHold: new DataLoader<string, Seat[], string>(async (holdIds) => {
      deps.stats.loaderFetches += 1;
      const seats = await db.seat.findMany({
        where: { holdId: { in: [...holdIds] } },
        orderBy: [{ section: 'asc' }, { row: 'asc' }, { number: 'asc' }],
      });
      const byHold = groupBy(seats, (s) => s.holdId ?? '');
      return holdIds.map((id) => byHold.get(id) ?? []);
    }),
  };
}
