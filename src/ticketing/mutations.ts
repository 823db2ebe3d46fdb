// Venue and event administration: tenant checks first (requireOrganizationAdmin against the owning
// organization as stored, never as claimed), then the write, then the audit entry.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { requireOrganizationAdmin } from '../accounts/authorization.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';

export const ticketingMutations: Resolvers = {
  Mutation: {
    createVenue: async (_root, { input }, context) => {
      const organizationId = input.organizationId
        ? parseUuid(input.organizationId, 'organizationId')
        : context.viewer?.organizationId;
      if (!organizationId) throw new BadUserInputError('organizationId is required', 'organizationId');
      const viewer = requireOrganizationAdmin(context, organizationId);
      const venue = await context.services.venues.createVenue(organizationId, input);
      await context.services.audit.record({
        action: 'VENUE_CREATED',
        actorId: viewer.userId,
        organizationId,
        targetType: 'Venue',
        targetId: venue.id,
      });
      return venue;
    },
    updateVenue: async (_root, { id, input }, context) => {
      const venue = await context.services.venues.venue(id);
      const viewer = requireOrganizationAdmin(context, venue.organizationId);
      const updated = await context.services.venues.updateVenue(venue, input);
      await context.services.audit.record({
        action: 'VENUE_UPDATED',
        actorId: viewer.userId,
        organizationId: venue.organizationId,
        targetType: 'Venue',
        targetId: venue.id,
      });
      return updated;
    },
    createEvent: async (_root, { input }, context) => {
      const venue = await context.services.venues.venue(input.venueId);
      const viewer = requireOrganizationAdmin(context, venue.organizationId);
      const event = await context.services.venues.createEvent(venue, input);
      await context.services.audit.record({
        action: 'EVENT_CREATED',
        actorId: viewer.userId,
        organizationId: venue.organizationId,
        targetType: 'Event',
        targetId: event.id,
      });
      return event;
    },
    updateEvent: async (_root, { id, input }, context) => {
      const event = await context.services.venues.event(id);
      const viewer = requireOrganizationAdmin(context, event.organizationId);
      const updated = await context.services.venues.updateEvent(event, input);
      await context.services.audit.record({
        action: 'EVENT_UPDATED',
        actorId: viewer.userId,
        organizationId: event.organizationId,
        targetType: 'Event',
        targetId: event.id,
      });
      return updated;
    },
  },
};
