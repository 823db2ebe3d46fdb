// Venue and event writes for organization admins. The organization of a new event is its venue's, never
// a client's claim, so an admin cannot place an event in another tenant. Each write commits, then
// invalidates the entity keys, the venue's event list and every cached event list (tag Event).
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { Database } from '../db/prisma.ts';
import type { Event, EventStatus, Prisma, Venue } from '../generated/prisma/client.ts';
import { isStorableDate, parseUuid } from '../graphql/arguments.ts';
import { BadUserInputError, NotFoundError } from '../infra/errors.ts';
import { EVENT_LISTS_TAG } from './event-listing.ts';

export interface VenueInput {
  name?: string | null;
  city?: string | null;
  capacity?: number | null;
}

export interface EventInput {
  name?: string | null;
  startsAt?: Date | null;
  salesOpenAt?: Date | null;
  salesCloseAt?: Date | null;
  capacity?: number | null;
  status?: EventStatus | null;
}

function text(value: string, argumentName: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length < 1 || trimmed.length > max)
    throw new BadUserInputError(`${argumentName} must be 1 to ${max} characters`, argumentName);
  return trimmed;
}

function capacity(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 200_000)
    throw new BadUserInputError('capacity must be 0 to 200000', 'capacity');
  return value;
}

function checkWindow(event: { startsAt: Date; salesOpenAt: Date; salesCloseAt: Date }): void {
  for (const [name, date] of Object.entries(event)) {
    if (!isStorableDate(date)) throw new BadUserInputError(`${name} must be between the years 1 and 9999`, name);
  }
  if (event.salesOpenAt >= event.salesCloseAt)
    throw new BadUserInputError('salesOpenAt must be before salesCloseAt', 'salesOpenAt');
  if (event.salesCloseAt > event.startsAt)
    throw new BadUserInputError('salesCloseAt must not be after startsAt', 'salesCloseAt');
}

export class VenueEventService {
  constructor(private readonly deps: { db: Database; cache: EntityCache; keys: KeyBuilder }) {}

  async venue(id: string): Promise<Venue> {
    const venue = await this.deps.db.venue.findUnique({ where: { id: parseUuid(id, 'id') } });
    if (!venue) throw new NotFoundError('venue');
    return venue;
  }

  async event(id: string): Promise<Event> {
    const event = await this.deps.db.event.findUnique({ where: { id: parseUuid(id, 'id') } });
    if (!event) throw new NotFoundError('event');
    return event;
  }

  async createVenue(organizationId: string, input: { name: string; city: string; capacity: number }): Promise<Venue> {
    if (!(await this.deps.db.organization.findUnique({ where: { id: organizationId }, select: { id: true } }))) {
      throw new BadUserInputError('organizationId does not name an existing organization', 'organizationId');
    }
    const venue = await this.deps.db.venue.create({
      data: {
        organizationId,
        name: text(input.name, 'name', 160),
        city: text(input.city, 'city', 96),
        capacity: capacity(input.capacity),
      },
    });
    await this.deps.cache.invalidate([this.deps.keys.entityKey('Organization.venues', organizationId)]);
    return venue;
  }

  async updateVenue(venue: Venue, input: VenueInput): Promise<Venue> {
    const data: Prisma.VenueUpdateInput = {};
    if (input.name != null) data.name = text(input.name, 'name', 160);
    if (input.city != null) data.city = text(input.city, 'city', 96);
    if (input.capacity != null) data.capacity = capacity(input.capacity);
    if (Object.keys(data).length === 0)
      throw new BadUserInputError('input changes nothing: give at least one field', 'input');
    const updated = await this.deps.db.venue.update({ where: { id: venue.id }, data });
    await this.deps.cache.invalidate([
      this.deps.keys.entityKey('Venue', venue.id),
      this.deps.keys.entityKey('Organization.venues', venue.organizationId),
    ]);
    return updated;
  }

  async createEvent(
    venue: Venue,
    input: {
      name: string;
      startsAt: Date;
      salesOpenAt: Date;
      salesCloseAt: Date;
      capacity: number;
      status?: EventStatus | null;
    },
  ): Promise<Event> {
    const window = { startsAt: input.startsAt, salesOpenAt: input.salesOpenAt, salesCloseAt: input.salesCloseAt };
    checkWindow(window);
    const event = await this.deps.db.event.create({
      data: {
        ...window,
        organizationId: venue.organizationId,
        venueId: venue.id,
        name: text(input.name, 'name', 200),
        capacity: capacity(input.capacity),
        status: input.status ?? 'DRAFT',
      },
    });
    await this.invalidateEvent(event);
    return event;
  }

  async updateEvent(event: Event, input: EventInput): Promise<Event> {
    const data: Prisma.EventUpdateInput = {};
    if (input.name != null) data.name = text(input.name, 'name', 200);
    if (input.capacity != null) data.capacity = capacity(input.capacity);
    if (input.status != null) data.status = input.status;
    if (input.startsAt != null) data.startsAt = input.startsAt;
    if (input.salesOpenAt != null) data.salesOpenAt = input.salesOpenAt;
    if (input.salesCloseAt != null) data.salesCloseAt = input.salesCloseAt;
    if (Object.keys(data).length === 0)
      throw new BadUserInputError('input changes nothing: give at least one field', 'input');
    checkWindow({
      startsAt: input.startsAt ?? event.startsAt,
      salesOpenAt: input.salesOpenAt ?? event.salesOpenAt,
      salesCloseAt: input.salesCloseAt ?? event.salesCloseAt,
    });
    const updated = await this.deps.db.event.update({ where: { id: event.id }, data });
    await this.invalidateEvent(updated);
    return updated;
  }

  private async invalidateEvent(event: Event): Promise<void> {
    const { keys, cache } = this.deps;
    await cache.invalidate([keys.entityKey('Event', event.id), keys.entityKey('Venue.events', event.venueId)]);
    await cache.invalidateTags([EVENT_LISTS_TAG]);
  }
}
