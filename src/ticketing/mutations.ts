// Venue and event administration: tenant checks first (requireOrganizationAdmin against the owning
// organization as stored, never as claimed), then the write, then the audit entry.
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import { requireOrganizationAdmin } from '../accounts/authorization.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';
import type { AuditAction } from '../accounts/audit.ts';
import type { GatewayContext } from '../graphql/context.ts';

/** The audit entry of an admin's write to a venue or an event, in the organization that owns it. */
function audit(
  context: GatewayContext,
  actorId: string,
  action: AuditAction,
  targetType: 'Venue' | 'Event',
  target: { id: string; organizationId: string },
): Promise<void> {
  const { id: targetId, organizationId } = target;
  return context.services.audit.record({ action, actorId, organizationId, targetType, targetId });
}

const VENUE_UPDATED = { action: 'VENUE_UPDATED', targetType: 'Venue' } as const;
const EVENT_UPDATED = { action: 'EVENT_UPDATED', targetType: 'Event' } as const;

/** An update by an admin of the target's organization: load it, check the viewer, write, then audit. */
async function adminUpdate<T extends { id: string; organizationId: string }, R>(
  context: GatewayContext,
  audited: { action: AuditAction; targetType: 'Venue' | 'Event' },
  load: Promise<T>,
  write: (target: T) => Promise<R>,
): Promise<R> {
  const target = await load;
  const viewer = requireOrganizationAdmin(context, target.organizationId);
  const updated = await write(target);
  await audit(context, viewer.userId, audited.action, audited.targetType, target);
  return updated;
}

export const ticketingMutations: Resolvers = {
  Mutation: {
    createVenue: async (_root, { input }, context) => {
      const organizationId = input.organizationId
        ? parseUuid(input.organizationId, 'organizationId')
        : context.viewer?.organizationId;
      if (!organizationId) throw new BadUserInputError('organizationId is required', 'organizationId');
      const viewer = requireOrganizationAdmin(context, organizationId);
      const venue = await context.services.venues.createVenue(organizationId, input);
      await audit(context, viewer.userId, 'VENUE_CREATED', 'Venue', { id: venue.id, organizationId });
      return venue;
    },
    updateVenue: (_root, { id, input }, context) => {
      const { venues } = context.services;
      return adminUpdate(context, VENUE_UPDATED, venues.venue(id), (venue) => venues.updateVenue(venue, input));
    },
    createEvent: async (_root, { input }, context) => {
      const venue = await context.services.venues.venue(input.venueId);
      const viewer = requireOrganizationAdmin(context, venue.organizationId);
      const event = await context.services.venues.createEvent(venue, input);
      await audit(context, viewer.userId, 'EVENT_CREATED', 'Event', {
        id: event.id,
        organizationId: venue.organizationId,
      });
      return event;
    },
    updateEvent: (_root, { id, input }, context) => {
      const { venues } = context.services;
      return adminUpdate(context, EVENT_UPDATED, venues.event(id), (event) => venues.updateEvent(event, input));
    },
  },
};
