// Resolvers of holds and bookings: signed-in customers hold seats, confirm and cancel their own bookings,
// and follow their own bookings live. Every one of these answers is private (Cache-Control: private).
import type { Event } from '../generated/prisma/client.ts';
import type { Resolvers } from '../generated/graphql/resolvers.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { requireViewer } from '../accounts/authorization.ts';
import type { Viewer } from '../accounts/viewer.ts';
import { parseUuid } from '../graphql/arguments.ts';
import { loadRequired } from '../graphql/load.ts';
import { ForbiddenError, NotFoundError } from '../infra/errors.ts';
import { bookingTopic } from './booking-service.ts';
import type { HoldView } from './hold-service.ts';

function requireCustomer(context: GatewayContext): Viewer {
  const viewer = requireViewer(context);
  if (viewer.role !== 'CUSTOMER') throw new ForbiddenError('only customer accounts hold and book seats');
  return viewer;
}

/** The event as its public sees it: a DRAFT is not there. */
export async function publicEvent(context: GatewayContext, eventIdArg: string): Promise<Event> {
  const event = await context.loaders.event.load(parseUuid(eventIdArg, 'eventId'));
  if (!event || event.status === 'DRAFT') throw new NotFoundError('event');
  return event;
}

export const bookingResolvers: Resolvers = {
  Query: {
    myBookings: (_root, args, context) => context.services.ticketing.bookings.mine(requireViewer(context).userId, args),
    booking: (_root, { reference }, context) =>
      context.services.ticketing.bookings.byReference(requireViewer(context).userId, reference),
    myActiveHold: (_root, { eventId }, context) =>
      context.services.ticketing.holds.activeOn(requireViewer(context).userId, parseUuid(eventId, 'eventId')),
  },
  Mutation: {
    holdSeats: async (_root, { eventId, seatIds }, context): Promise<HoldView> => {
      const viewer = requireCustomer(context);
      const { holds } = context.services.ticketing;
      const ids = holds.parseSeatIds(seatIds);
      return holds.hold(viewer.userId, await publicEvent(context, eventId), ids);
    },
    releaseHold: (_root, { holdId }, context) =>
      context.services.ticketing.holds.release(requireCustomer(context).userId, holdId),
    confirmBooking: (_root, { holdId, idempotencyKey }, context) =>
      context.services.ticketing.bookings.confirm(requireCustomer(context).userId, holdId, idempotencyKey),
    cancelBooking: (_root, { bookingId }, context) =>
      context.services.ticketing.bookings.cancel(requireCustomer(context).userId, bookingId),
  },
  Hold: {
    event: (hold, _args, { loaders }) => loadRequired(loaders.event, hold.eventId, 'event'),
    seats: (hold, _args, { loaders }) => loaders.seatsOfHold.load(hold.id),
  },
  Booking: {
    event: (booking, _args, { loaders }) => loadRequired(loaders.event, booking.eventId, 'event'),
    seats: (booking, _args, { loaders }) => loaders.seatsOfBooking.load(booking.id),
  },
  BookingConnection: {
    pageInfo: (page) => ({ hasNextPage: page.hasNextPage, endCursor: page.endCursor }),
  },
  Subscription: {
    bookingStatusChanged: {
      subscribe: async (_root, { bookingId }, context) => {
        const booking = await context.services.ticketing.bookings.owned(requireViewer(context).userId, bookingId);
        return context.services.bus.iterate(bookingTopic(booking.id));
      },
      resolve: (payload: Awaited<ReturnType<GatewayContext['services']['ticketing']['bookings']['owned']>>) => payload,
    },
  },
};
