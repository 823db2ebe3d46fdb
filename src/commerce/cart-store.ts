// Carts: PRIVATE per-user data, so never in the shared entity cache or L1. PostgreSQL holds the cart
// (the truth, written first); Redis holds a copy under <prefix>:cart:<userId> with a sliding TTL, so a
// busy cart is read without SQL and stopping redis-server loses nothing.
//
// Decisions:
// - Writes commit in PostgreSQL under a per-user advisory lock (two tabs adding at once cannot make two
//   open carts), then SET the Redis copy. A failed SET goes through the entity cache's invalidation,
//   which queues the delete and replays it when Redis is back: an older copy cannot resurface.
// - A read that missed Redis fills it with SET NX: if a write landed meanwhile, its SET wins and the
//   fill (read before the write) is dropped.
// - Checkout leaves an empty copy rather than deleting it, for the same reason.
import type { SessionServiceDeps } from '../accounts/sessions.ts';
import { decode, encode } from '../cache/codec.ts';
import { execPipeline } from '../redis/circuit-breaker.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { BadUserInputError } from '../infra/errors.ts';
import type { TransactionRunner } from './transactions.ts';

export const MAX_CART_LINES = 50;
export const MAX_LINE_QUANTITY = 99;

export interface CartLine {
  productId: number;
  quantity: number;
}

/** What sessions need too: a PostgreSQL truth with a sliding-TTL copy in Redis. */
export type CartStoreDeps = SessionServiceDeps;

type Transaction = Prisma.TransactionClient;

/** Serialises every cart write and checkout of one user, across instances (PostgreSQL advisory lock). */
export async function lockUserCart(tx: Transaction, userId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`cart:${userId}`}))`;
}

/** The user's open cart's lines inside a transaction, oldest first; [] when there is no open cart. */
export async function openCartLines(tx: Transaction, userId: string): Promise<{ cartId?: string; lines: CartLine[] }> {
  const cart = await tx.cart.findFirst({
    where: { userId, status: 'OPEN' },
    include: { items: { orderBy: [{ addedAt: 'asc' }, { productId: 'asc' }] } },
    orderBy: { createdAt: 'asc' },
  });
  if (!cart) return { lines: [] };
  return { cartId: cart.id, lines: cart.items.map((i) => ({ productId: i.productId, quantity: i.quantity })) };
}

export class CartStore {
  constructor(
    private readonly deps: CartStoreDeps,
    private readonly transactions: TransactionRunner,
  ) {}

  key(userId: string): string {
    return `${this.deps.prefix}:cart:${userId}`;
  }

  async lines(userId: string): Promise<CartLine[]> {
    const cached = await this.readRedis(userId);
    if (cached) return cached;
    const { lines } = await openCartLines(this.deps.db, userId);
    await this.writeRedis(userId, lines, true);
    return lines;
  }

  /** Sets one line's quantity (0 removes it), or adds to it with `add`. Returns the cart's lines. */
  async change(userId: string, productId: number, quantity: number, mode: 'set' | 'add'): Promise<CartLine[]> {
    const lines = await this.transactions.run(async (tx) => {
      await lockUserCart(tx, userId);
      let { cartId, lines: current } = await openCartLines(tx, userId);
      const existing = current.find((l) => l.productId === productId);
      const next = mode === 'add' ? (existing?.quantity ?? 0) + quantity : quantity;
      if (next > MAX_LINE_QUANTITY)
        throw new BadUserInputError(`a line holds at most ${MAX_LINE_QUANTITY} units`, 'quantity');
      if (!existing && next > 0 && current.length >= MAX_CART_LINES)
        throw new BadUserInputError(`a cart holds at most ${MAX_CART_LINES} lines`, 'productId');
      if (next > 0) {
        cartId ??= (await tx.cart.create({ data: { userId } })).id;
        await tx.cartItem.upsert({
          where: { cartId_productId: { cartId, productId } },
          create: { cartId, productId, quantity: next },
          update: { quantity: next },
        });
        current = existing
          ? current.map((l) => (l.productId === productId ? { productId, quantity: next } : l))
          : [...current, { productId, quantity: next }];
      } else if (existing && cartId) {
        await tx.cartItem.delete({ where: { cartId_productId: { cartId, productId } } });
        current = current.filter((l) => l.productId !== productId);
      }
      if (cartId) await tx.cart.update({ where: { id: cartId }, data: { updatedAt: new Date() } });
      return current;
    });
    await this.writeRedis(userId, lines, false);
    return lines;
  }

  /** After a checkout committed: the copy becomes empty (see the decisions above). */
  async emptied(userId: string): Promise<void> {
    await this.writeRedis(userId, [], false);
  }

  private async readRedis(userId: string): Promise<CartLine[] | undefined> {
    const redis = this.deps.redis;
    if (!redis) return undefined;
    const key = this.key(userId);
    return redis.attempt(
      async (r) => {
        const [text] = await execPipeline(r, (multi) => multi.get(key).pexpire(key, this.deps.ttlSeconds * 1000), true);
        return typeof text === 'string' ? decode<CartLine[]>(text) : undefined;
      },
      'cart-get',
      () => undefined,
    );
  }

  private async writeRedis(userId: string, lines: CartLine[], onlyIfAbsent: boolean): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    const key = this.key(userId);
    const ttlMs = this.deps.ttlSeconds * 1000;
    await redis.attempt(
      (r) => (onlyIfAbsent ? r.set(key, encode(lines), 'PX', ttlMs, 'NX') : r.set(key, encode(lines), 'PX', ttlMs)),
      'cart-set',
      async () => {
        if (!onlyIfAbsent) await this.deps.cache.invalidate([key], { broadcast: false });
        return null;
      },
    );
  }
}
