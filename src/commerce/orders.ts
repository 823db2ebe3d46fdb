// Orders are PRIVATE: read from PostgreSQL for their owner only, never from a shared cache. A page of
// orders is one query with its items (Prisma's include: one more query for all of them, not one per order).
import type { Database } from '../db/prisma.ts';
import type { Order, OrderItem } from '../generated/prisma/client.ts';
import { UUID } from '../graphql/arguments.ts';
import { newestFirstPage, type PageArgs } from '../graphql/newest-first-page.ts';
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
  async pageOf(userId: string, args: PageArgs): Promise<OrderPage> {
    const { nodes, hasNextPage, endCursor } = await newestFirstPage(args, ({ after, orderBy, take }) =>
      this.db.order.findMany({ where: { userId, ...after }, orderBy, take, include: ORDER_ITEMS }),
    );
    return { nodes, pageInfo: { hasNextPage, endCursor } };
  }
}
