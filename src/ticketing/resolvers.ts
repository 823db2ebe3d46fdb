// Resolvers of live ticketing: events, venues and seat maps, every read through the request's loaders.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { loadExisting, loadRequired } from '../graphql/load.ts';
import { countEvents, eventCursor, listEvents } from './event-listing.ts';
import { filterSeats, seatTopic, summariseSections, type SeatChangeMessage } from './seat-map.ts';

export const ticketingResolvers: Resolvers = {
  Query: {
    event: (_root, { id }, { loaders }) => loaders.event.load(parseUuid(id, 'id')),
    events: (_root, args, { loaders }) => listEvents(loaders, args),
    venue: (_root, { id }, { loaders }) => loaders.venue.load(parseUuid(id, 'id')),
  },
  Event: {
    venue: (event, _args, { loaders }) => loadRequired(loaders.venue, event.venueId, 'venue'),
    organization: (event, _args, { loaders }) => loadRequired(loaders.organization, event.organizationId, 'organization'),
    seats: async (event, { section, status }, { loaders }) => filterSeats((await loaders.seatsOfEvent.load(event.id)) ?? [], section, status),
    sections: async (event, _args, { loaders }) => summariseSections((await loaders.seatsOfEvent.load(event.id)) ?? []),
    availableSeats: async (event, _args, { loaders }) => filterSeats((await loaders.seatsOfEvent.load(event.id)) ?? [], null, 'AVAILABLE').length,
  },
  Seat: {
    event: (seat, _args, { loaders }) => loadRequired(loaders.event, seat.eventId, 'event'),
  },
  Venue: {
    organization: (venue, _args, { loaders }) => loadRequired(loaders.organization, venue.organizationId, 'organization'),
    events: async (venue, { first }, { loaders }) => ((await loaders.eventsOfVenue.load(venue.id)) ?? []).slice(0, Math.max(0, Math.min(first ?? 20, 100))),
  },
  EventConnection: {
    nodes: (page, _args, { loaders }) => loadExisting(loaders.event, page.ids),
    edges: async (page, _args, { loaders }) => (await loadExisting(loaders.event, page.ids)).map((node) => ({ node, cursor: eventCursor(node) })),
    pageInfo: async (page, _args, { loaders }) => {
      const last = page.ids.length ? await loaders.event.load(page.ids[page.ids.length - 1]!) : null;
      return { hasNextPage: page.hasNextPage, endCursor: last ? eventCursor(last) : null };
    },
    totalCount: (page, _args, { loaders }) => countEvents(loaders, page),
  },
  Subscription: {
    seatsChanged: {
      subscribe: (_root, { eventId }, { services }) => services.bus.iterate(seatTopic(parseUuid(eventId, 'eventId'))),
      resolve: (payload: SeatChangeMessage) => payload,
    },
  },
};
