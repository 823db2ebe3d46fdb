// Live activity of one organization: what its staff changed (products and stock, venues, events, staff),
// published after the change has committed and its audit entry is written, plus its events' holds and
// bookings counts (SEATS_CHANGED) and its products running low (LOW_STOCK), all on the organization's own
// topic of the event bus, so a subscriber only ever hears their own organization.
import type { EventBus } from '../realtime/event-bus.ts';

export const activityTopic = (organizationId: string): string => `org-activity:${organizationId}`;

/** Audit actions that are also live activity. Sign-ins and failures are not: they are not news for staff. */
export const ACTIVITY_ACTIONS: ReadonlySet<string> = new Set([
  'PRODUCT_CREATED',
  'PRODUCT_UPDATED',
  'PRODUCT_DELETED',
  'STOCK_SET',
  'VENUE_CREATED',
  'VENUE_UPDATED',
  'EVENT_CREATED',
  'EVENT_UPDATED',
  'MEMBER_ADDED',
  'MEMBER_ROLE_CHANGED',
  'MEMBER_REMOVED',
  'CACHE_PURGE',
]);

export interface ActivitySeatCounts {
  holds: number;
  bookings: number;
  heldSeats: number;
  bookedSeats: number;
  availableSeats: number;
}

export interface ActivityStock {
  available: number;
  onHand: number;
  reserved: number;
  threshold: number;
}

export interface OrganizationActivity {
  organizationId: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  at: Date;
  /** SEATS_CHANGED only. */
  seats?: ActivitySeatCounts;
  /** LOW_STOCK only. */
  stock?: ActivityStock;
}

export function publishActivity(bus: EventBus, activity: OrganizationActivity): Promise<void> {
  return bus.publish(activityTopic(activity.organizationId), activity);
}
