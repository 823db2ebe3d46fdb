// Resolvers of live ticketing: events, venues and seat maps, every read through the request's loaders.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { administers, requireViewer } from '../accounts/authorization.ts';
import { parsePageSize, parseUuid } from '../graphql/arguments.ts';
import { loadExisting, loadRequired } from '../graphql/load.ts';
import { countEvents, eventCursor, listEvents } from './event-listing.ts';
import { BadUserInputError } from '../infra/errors.ts';
import type { SeatChangeMessage } from '../realtime/seat-changes.ts';
import { publicEvent } from './booking-resolvers.ts';
import { availabilityOf, filterSeats, summariseSections } from './seat-map.ts';

export const ticketingResolvers: Resolvers = {
  Query: {
    // A DRAFT event exists only for its organization's admins: to anyone else it is not there.
    event: async (_root, { id }, { loaders, viewer }) => {
      const event = await loaders.event.load(parseUuid(id, 'id'));
      return event && (event.status !== 'DRAFT' || administers(viewer, event.organizationId)) ? event : null;
    },
    events: (_root, args, { loaders, viewer }) => listEvents(loaders, args, viewer),
    venue: (_root, { id }, { loaders }) => loaders.venue.load(parseUuid(id, 'id')),
    myOrganization: (_root, _args, context) => {
      const viewer = requireViewer(context);
      return viewer.organizationId ? context.loaders.organization.load(viewer.organizationId) : null;
    },
  },
  Organization: {
    venues: async (organization, _args, { loaders }) => await loaders.venuesOfOrganization.load(organization.id),
  },
  Event: {
    venue: (event, _args, { loaders }) => loadRequired(loaders.venue, event.venueId, 'venue'),
    organization: (event, _args, { loaders }) =>
      loadRequired(loaders.organization, event.organizationId, 'organization'),
    seats: async (event, { section, status }, { loaders }) =>
      filterSeats(await loaders.seatsOfEvent.load(event.id), section, status),
    sections: async (event, _args, { loaders }) => summariseSections(await loaders.seatsOfEvent.load(event.id)),
    availableSeats: async (event, _args, { loaders }) =>
      filterSeats(await loaders.seatsOfEvent.load(event.id), null, 'AVAILABLE').length,
    availability: async (event, _args, { loaders }) =>
      availabilityOf(event.id, await loaders.seatsOfEvent.load(event.id)),
  },
  Seat: {
    event: (seat, _args, { loaders }) => loadRequired(loaders.event, seat.eventId, 'event'),
  },
  Venue: {
    organization: (venue, _args, { loaders }) =>
      loadRequired(loaders.organization, venue.organizationId, 'organization'),
    events: async (venue, { first }, { loaders, viewer }) => {
      const events = await loaders.eventsOfVenue.load(venue.id);
      const visible = administers(viewer, venue.organizationId) ? events : events.filter((e) => e.status !== 'DRAFT');
      return visible.slice(0, parsePageSize(first));
    },
  },
  EventConnection: {
    nodes: (page, _args, { loaders }) => loadExisting(loaders.event, page.ids),
    edges: async (page, _args, { loaders }) =>
      (await loadExisting(loaders.event, page.ids)).map((node) => ({ node, cursor: eventCursor(node) })),
    pageInfo: async (page, _args, { loaders }) => {
      const last = page.ids.length ? await loaders.event.load(page.ids[page.ids.length - 1]!) : null;
      return { hasNextPage: page.hasNextPage, endCursor: last ? eventCursor(last) : null };
    },
    totalCount: (page, _args, { loaders }) => countEvents(loaders, page),
  },
  Subscription: {
    seatsChanged: {
      subscribe: async (_root, { eventId, afterSequence }, context) => {
        if (afterSequence != null && afterSequence < 0)
          throw new BadUserInputError('afterSequence must not be negative', 'afterSequence');
        const event = await publicEvent(context, eventId);
        return context.services.ticketing.seatChanges(event.id, afterSequence ?? null);
      },
      resolve: (payload: SeatChangeMessage) => payload,
    },
    eventAvailability: {
      subscribe: async (_root, { eventId }, context) => {
        const event = await publicEvent(context, eventId);
        return context.services.ticketing.seatChanges(event.id, null);
      },
      resolve: (payload: SeatChangeMessage) => payload.availability,
    },
  },
};
