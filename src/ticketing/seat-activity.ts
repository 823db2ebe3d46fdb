// An event's holds and bookings counts, pushed to its organization's live activity (organizationActivity,
// docs/ARCHITECTURE.md "Operations platform"). It rides on the seat-change publisher: changes of one event
// are already coalesced there and its seat counts already read, so a hold costs no statement of its own.
// Each event has at most one count query in flight, off the publisher's chain (seat changes never wait for
// it); changes meanwhile are sent once it is done, with the counts PostgreSQL has then.
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import { publishActivity } from '../accounts/organization-activity.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { Availability } from '../realtime/seat-changes.ts';

interface EventCounts {
  organizationId: string;
  holds: number;
  bookings: number;
}

export class SeatActivity {
  /** Per event with a send in flight: the newer seat counts to send after it, if any. */
  private readonly inFlight = new Map<string, Availability | null>();
  private readonly sends = new Set<Promise<void>>();

  constructor(private readonly deps: { db: Database; bus: EventBus; logger: Logger }) {}

  /** After a seat change of the event was published. */
  published(availability: Availability): void {
    const { eventId } = availability;
    if (this.inFlight.has(eventId)) {
      this.inFlight.set(eventId, availability);
      return;
    }
    this.inFlight.set(eventId, null);
    const send = this.send(availability).finally(() => {
      this.sends.delete(send);
      const next = this.inFlight.get(eventId);
      this.inFlight.delete(eventId);
      if (next) this.published(next);
    });
    this.sends.add(send);
  }

  /** Waits for the sends under way (shutdown). */
  async settled(): Promise<void> {
    while (this.sends.size) await Promise.allSettled([...this.sends]);
  }

  /** A failure is logged, never thrown: the seats' change has committed. */
  private async send(availability: Availability): Promise<void> {
    const { db, bus, logger } = this.deps;
    const { eventId } = availability;
    try {
      const [counts] = await db.$queryRaw<EventCounts[]>`
        SELECT e."organizationId"::text AS "organizationId",
          (SELECT count(*)::int FROM "Hold" h WHERE h."eventId" = e.id AND h.status = 'ACTIVE') AS holds,
          (SELECT count(*)::int FROM "Booking" b WHERE b."eventId" = e.id AND b.status = 'CONFIRMED') AS bookings
        FROM "Event" e WHERE e.id = ${eventId}::uuid`;
      if (!counts) return;
      await publishActivity(bus, {
        organizationId: counts.organizationId,
        action: 'SEATS_CHANGED',
        targetType: 'Event',
        targetId: eventId,
        at: new Date(),
        seats: {
          holds: counts.holds,
          bookings: counts.bookings,
          heldSeats: availability.held,
          bookedSeats: availability.booked,
          availableSeats: availability.available,
        },
      });
    } catch (error) {
      logger.warn({ err: error, eventId }, 'seat change committed but not sent to the organization activity');
    }
  }
}
