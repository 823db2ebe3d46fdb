// Orders are PRIVATE: read from PostgreSQL for their owner only, never from a shared cache. A page of
// orders is one query with its items (Prisma's include: one more query for all of them, not one per order).
import type { Database } from '../db/prisma.ts';
import type { Order, OrderItem } from '../generated/prisma/client.ts';
import { decodeCursor, encodeCursor, isStorableDate, parsePageSize, UUID } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';

export type OrderWithItems = Order & { items: OrderItem[] };

export interface OrderPage {
  nodes: OrderWithItems[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const ORDER_ITEMS = { items: { orderBy: { id: 'asc' } } } as const;

export class OrderService {
  constructor(private readonly db: Database) {}

  /** The order, if it exists and belongs to the user; null otherwise (not telling which). */
  async ofUser(userId: string, id: string): Promise<OrderWithItems | null> {
    if (!UUID.test(id)) throw new BadUserInputError('id must be a UUID', 'id');
    return this.db.order.findFirst({ where: { id: id.toLowerCase(), userId }, include: ORDER_ITEMS });
  }

  /** Newest first, keyset-paginated on (createdAt, id). */
  async pageOf(userId: string, args: { first?: number | null; after?: string | null }): Promise<OrderPage> {
    const first = parsePageSize(args.first);
    const cursor = decodeCursor(args.after, ['string', 'string']);
    const after = cursor ? new Date(String(cursor[0])) : undefined;
    if (cursor && (!after || !isStorableDate(after) || !UUID.test(String(cursor[1]))))
      throw new BadUserInputError('after is not a valid cursor: pass endCursor from a previous page', 'after');
    const rows = await this.db.order.findMany({
      where: {
        userId,
        ...(after && {
          OR: [{ createdAt: { lt: after } }, { createdAt: after, id: { lt: String(cursor![1]) } }],
        }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: first + 1,
      include: ORDER_ITEMS,
    });
    const nodes = rows.slice(0, first);
    const last = nodes[nodes.length - 1];
    return {
      nodes,
      pageInfo: {
        hasNextPage: rows.length > first,
        endCursor: last ? encodeCursor([last.createdAt.toISOString(), last.id]) : null,
      },
    };
  }
}
