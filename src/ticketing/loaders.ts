// Loaders of the ticketing entities and edges. A 2,500-seat event's seats are one relation entry
// (Event.seats), read with one SQL query and cached for the few seconds availability allows.
import type DataLoader from 'dataloader';
import { createCachedLoader, createRelationLoader, type LoaderDeps, type LoaderSpec } from '../cache/loader-factory.ts';
import type { Database } from '../db/prisma.ts';
import { byId, groupBy } from '../db/rows.ts';
import type { Event, Seat, Venue } from '../generated/prisma/client.ts';

export function ticketingSpecs(db: Database, ttlOf: LoaderDeps['ttlOf']) {
  return {
    event: {
      type: 'Event',
      ttlSeconds: ttlOf('Event'),
      idOf: String,
      missing: null,
      fetch: async (ids) => byId(await db.event.findMany({ where: { id: { in: [...ids] } } }), (e) => e.id),
    } satisfies LoaderSpec<string, Event>,
    venue: {
      type: 'Venue',
      ttlSeconds: ttlOf('Venue'),
      idOf: String,
      missing: null,
      fetch: async (ids) => byId(await db.venue.findMany({ where: { id: { in: [...ids] } } }), (v) => v.id),
    } satisfies LoaderSpec<string, Venue>,
    seatsOfEvent: {
      type: 'Event.seats',
      ttlSeconds: ttlOf('Event', 'seats'),
      idOf: String,
      missing: [],
      fetch: async (eventIds) =>
        groupBy(
          await db.seat.findMany({
            where: { eventId: { in: [...eventIds] } },
            orderBy: [{ eventId: 'asc' }, { section: 'asc' }, { row: 'asc' }, { number: 'asc' }],
          }),
          (s) => s.eventId,
        ),
    } satisfies LoaderSpec<string, Seat[]>,
    eventsOfVenue: {
      type: 'Venue.events',
      ttlSeconds: ttlOf('Venue', 'events'),
      idOf: String,
      missing: [],
      fetch: async (venueIds) =>
        groupBy(
          await db.event.findMany({
            where: { venueId: { in: [...venueIds] } },
            orderBy: [{ startsAt: 'asc' }, { id: 'asc' }],
          }),
          (e) => e.venueId,
        ),
    } satisfies LoaderSpec<string, Event[]>,
    venuesOfOrganization: {
      type: 'Organization.venues',
      ttlSeconds: ttlOf('Organization', 'venues'),
      idOf: String,
      missing: [],
      fetch: async (organizationIds) =>
        groupBy(
          await db.venue.findMany({
            where: { organizationId: { in: [...organizationIds] } },
            orderBy: [{ name: 'asc' }, { id: 'asc' }],
          }),
          (v) => v.organizationId,
        ),
    } satisfies LoaderSpec<string, Venue[]>,
  };
}

export type TicketingSpecs = ReturnType<typeof ticketingSpecs>;

export interface TicketingLoaders {
  event: DataLoader<string, Event | null, string>;
  venue: DataLoader<string, Venue | null, string>;
  seatsOfEvent: DataLoader<string, Seat[], string>;
  eventsOfVenue: DataLoader<string, Event[], string>;
  venuesOfOrganization: DataLoader<string, Venue[], string>;
}

export function createTicketingLoaders(specs: TicketingSpecs, deps: LoaderDeps): TicketingLoaders {
  return {
    event: createCachedLoader(specs.event, deps.runtime, deps.stats),
    venue: createCachedLoader(specs.venue, deps.runtime, deps.stats),
    seatsOfEvent: createRelationLoader(specs.seatsOfEvent, deps.runtime, deps.stats),
    eventsOfVenue: createRelationLoader(specs.eventsOfVenue, deps.runtime, deps.stats),
    venuesOfOrganization: createRelationLoader(specs.venuesOfOrganization, deps.runtime, deps.stats),
  };
}
