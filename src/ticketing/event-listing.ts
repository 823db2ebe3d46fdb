// Event listings: soonest first, keyset-paginated on (startsAt, id), pages and counts cached in their
// own namespaces (EventList, EventCount) that every event write purges.
import { createListLoaders, type ListLoaders, type PageKey, type PageValue } from '../cache/list-loaders.ts';
import type { LoaderDeps } from '../cache/loader-factory.ts';
import type { Database } from '../db/prisma.ts';
import { Prisma, type Event, type EventStatus } from '../generated/prisma/client.ts';
import { allOf, countEach, readPages, type PageQuery } from '../db/batched-queries.ts';
import { decodeCursor, encodeCursor, isStorableDate, parsePageSize, parseUuid, UUID } from '../graphql/arguments.ts';
import { administers } from '../accounts/authorization.ts';
import type { Viewer } from '../accounts/viewer.ts';
import { BadUserInputError, ForbiddenError, UnauthenticatedError } from '../infra/errors.ts';
import type { TicketingLoaders, TicketingSpecs } from './loaders.ts';

/** The tag every event list and count is filed under: any event write purges them all. */
export const EVENT_LISTS_TAG = 'Event';

export interface EventFilterInput {
  organizationId?: string | null;
  venueId?: string | null;
  status?: EventStatus | null;
  startsAfter?: Date | null;
  startsBefore?: Date | null;
  includeDrafts?: boolean | null;
}

interface NormalisedEventFilter {
  /** Set only for an admin of organizationId: the list is then tenant-scoped and so is its cache key. */
  includeDrafts?: true;
  organizationId?: string;
  venueId?: string;
  status?: EventStatus;
  startsAfter?: string;
  startsBefore?: string;
}

export interface EventPage extends PageValue<string> {
  filter: NormalisedEventFilter;
}

export function eventCursor(event: Event): string {
  return encodeCursor([event.startsAt.toISOString(), event.id]);
}

function filterSql(filter: NormalisedEventFilter): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.organizationId) conditions.push(Prisma.sql`t."organizationId" = ${filter.organizationId}::uuid`);
  if (filter.venueId) conditions.push(Prisma.sql`t."venueId" = ${filter.venueId}::uuid`);
  // Drafts are the organization's own business: public lists never show them.
  if (filter.status) conditions.push(Prisma.sql`t."status" = ${filter.status}::"EventStatus"`);
  else if (!filter.includeDrafts) conditions.push(Prisma.sql`t."status" <> 'DRAFT'::"EventStatus"`);
  if (filter.startsAfter) conditions.push(Prisma.sql`t."startsAt" >= ${new Date(filter.startsAfter)}::timestamptz`);
  if (filter.startsBefore) conditions.push(Prisma.sql`t."startsAt" < ${new Date(filter.startsBefore)}::timestamptz`);
  return conditions;
}

function pageQuery(key: PageKey<NormalisedEventFilter>): PageQuery {
  const conditions = filterSql(key.filter);
  if (key.after) {
    const startsAt = new Date(String(key.after[0]));
    const id = String(key.after[1]);
    const sameStart = Prisma.sql`t."startsAt" = ${startsAt}::timestamptz AND t."id" > ${id}::uuid`;
    conditions.push(Prisma.sql`(t."startsAt" > ${startsAt}::timestamptz OR (${sameStart}))`);
  }
  return { where: allOf(conditions), orderBy: Prisma.raw('t."startsAt" ASC, t."id" ASC'), limit: key.first + 1 };
}

export interface EventListingLoaders {
  eventPage: ListLoaders<NormalisedEventFilter, string>['page'];
  eventCount: ListLoaders<NormalisedEventFilter, string>['count'];
}

export function createEventListingLoaders(
  db: Database,
  specs: TicketingSpecs,
  loaders: TicketingLoaders,
  deps: LoaderDeps,
): EventListingLoaders {
  const { page, count } = createListLoaders<NormalisedEventFilter, Event, string>(
    {
      pageType: 'EventList',
      countType: 'EventCount',
      ttlSeconds: deps.ttlOf('Query', 'events'),
      tag: EVENT_LISTS_TAG,
      tenantOf: (filter) => (filter.includeDrafts ? filter.organizationId : undefined),
      readPages: (keys) => readPages<Event>(db, 'Event', keys.map(pageQuery)),
      countEach: (filters) =>
        countEach(
          db,
          'Event',
          filters.map((filter) => allOf(filterSql(filter))),
        ),
      entity: { loader: loaders.event, spec: specs.event, idOf: (e) => e.id },
    },
    deps,
  );
  return { eventPage: page, eventCount: count };
}

export async function listEvents(
  loaders: EventListingLoaders,
  args: { filter?: EventFilterInput | null; first?: number | null; after?: string | null },
  viewer: Viewer | null,
): Promise<EventPage> {
  const first = parsePageSize(args.first);
  const cursor = decodeCursor(args.after, ['string', 'string']);
  if (cursor && (!isStorableDate(new Date(String(cursor[0]))) || !UUID.test(String(cursor[1])))) {
    throw new BadUserInputError('after is not a valid cursor: pass endCursor from a previous page', 'after');
  }
  const filter = normaliseFilter(args.filter ?? {});
  if (args.filter?.includeDrafts || filter.status === 'DRAFT') {
    if (!viewer) throw new UnauthenticatedError('sign in as an admin of the organization to see its drafts');
  }
  if (args.filter?.includeDrafts) {
    if (!filter.organizationId)
      throw new BadUserInputError('includeDrafts needs filter.organizationId', 'filter.includeDrafts');
    if (!administers(viewer, filter.organizationId))
      throw new ForbiddenError('only admins of the organization may see its drafts');
    filter.includeDrafts = true;
  }
  if (filter.status === 'DRAFT' && !filter.includeDrafts)
    throw new ForbiddenError('DRAFT events are listed only with includeDrafts, for admins of the organization');
  const key: PageKey<NormalisedEventFilter> = {
    filter,
    first,
    ...(cursor && { after: [String(cursor[0]), String(cursor[1])] }),
  };
  const page = (await loaders.eventPage.load(key)) ?? { ids: [], hasNextPage: false };
  return { ...page, filter };
}

export async function countEvents(loaders: EventListingLoaders, page: EventPage): Promise<number> {
  return (await loaders.eventCount.load(page.filter)) ?? 0;
}

function normaliseFilter(input: EventFilterInput): NormalisedEventFilter {
  const filter: NormalisedEventFilter = {};
  if (input.organizationId != null) filter.organizationId = parseUuid(input.organizationId, 'filter.organizationId');
  if (input.venueId != null) filter.venueId = parseUuid(input.venueId, 'filter.venueId');
  if (input.status != null) filter.status = input.status;
  for (const name of ['startsAfter', 'startsBefore'] as const) {
    const date = input[name];
    if (date == null) continue;
    if (!isStorableDate(date))
      throw new BadUserInputError(`filter.${name} must be between the years 1 and 9999`, `filter.${name}`);
    filter[name] = date.toISOString();
  }
  return filter;
}
