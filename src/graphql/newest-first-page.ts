// One user's rows newest first, keyset-paginated on (createdAt, id): orders and bookings page this way.
// The cursor carries the last row's createdAt and id; the next page is what sorts strictly after it.
import { BadUserInputError } from '../infra/errors.ts';
import { decodeCursor, encodeCursor, isStorableDate, parsePageSize, UUID } from './arguments.ts';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** The condition on (createdAt, id) that a query adds to its own `where`, and how many rows to take. */
export interface NewestFirstQuery {
  after: { OR: [{ createdAt: { lt: Date } }, { createdAt: Date; id: { lt: string } }] } | Record<string, never>;
  orderBy: [{ createdAt: 'desc' }, { id: 'desc' }];
  take: number;
}

export interface NewestFirstPage<T> {
  nodes: T[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Checks the arguments, runs `read` once (one row more than asked, to know whether more follow). */
export async function newestFirstPage<T extends { createdAt: Date; id: string }>(
  args: PageArgs,
  read: (query: NewestFirstQuery) => Promise<T[]>,
): Promise<NewestFirstPage<T>> {
  const first = parsePageSize(args.first);
  const cursor = decodeCursor(args.after, ['string', 'string']);
  const at = cursor ? new Date(String(cursor[0])) : undefined;
  const id = cursor ? String(cursor[1]) : undefined;
  if (cursor && (!at || !isStorableDate(at) || !UUID.test(id!)))
    throw new BadUserInputError('after is not a valid cursor: pass endCursor from a previous page', 'after');
  const rows = await read({
    after: at ? { OR: [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id! } }] } : {},
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: first + 1,
  });
  const nodes = rows.slice(0, first);
  const last = nodes[nodes.length - 1];
  return {
    nodes,
    hasNextPage: rows.length > first,
    endCursor: last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
  };
}
