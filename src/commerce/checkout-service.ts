// Checkout: the cart becomes an order and the stock is taken, all in ONE PostgreSQL transaction.
//
// Decisions:
// - PostgreSQL is the only judge of stock: each line is a conditional
//   UPDATE "Inventory" SET "onHand" = "onHand" - q WHERE "onHand" - "reserved" >= q, and a line it does
//   not update rolls the whole order back (OUT_OF_STOCK). Row locks serialise concurrent buyers of one
//   product; the CHECK constraints (onHand >= 0, reserved <= onHand) make a negative count impossible.
// - Lines are taken in product id order, so two carts sharing products cannot deadlock.
// - The cached stock (L1/Redis) is only a fast pre-check that refuses a line the cache already knows
//   cannot be filled; it never lets a checkout through.
// - Idempotency: a per-user advisory lock serialises a user's checkouts (on every instance), and inside
//   it the (userId, idempotencyKey) unique row is looked up first: a retry gets the same order.
// - Prices are read in the transaction and frozen into the order; the cart's Redis copy is emptied and
//   the stock change published only after the commit. The stock is taken last in the transaction, so
//   its row locks are held for as few statements as possible.
import { Prisma, type Inventory, type MemberTier, type ShippingZone } from '../generated/prisma/client.ts';
import type { Database } from '../db/prisma.ts';
import { BadUserInputError } from '../infra/errors.ts';
import type { ReferenceLoaders } from '../reference/loaders.ts';
import { checkPostcode } from '../reference/postcode-check.ts';
import { shippingFee, zoneOfPostcode } from '../reference/shipping.ts';
import { lockUserCart, openCartLines, type CartLine, type CartStore } from './cart-store.ts';
import { OutOfStockError } from './errors.ts';
import type { CommerceLoaders } from './loaders.ts';
import { ORDER_ITEMS, type OrderWithItems } from './orders.ts';
import { CURRENCY } from './pricing.ts';
import type { StockEvents } from './stock-events.ts';
import type { TransactionRunner } from './transactions.ts';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,64}$/;

export interface ShippingAddressInput {
  line1: string;
  postcode: string;
  city: string;
  state: string;
}

export interface CheckoutDeps {
  db: Database;
  carts: CartStore;
  stock: StockEvents;
  transactions: TransactionRunner;
}

interface Address extends ShippingAddressInput {
  zone: ShippingZone;
}

type Transaction = Prisma.TransactionClient;

export class CheckoutService {
  constructor(private readonly deps: CheckoutDeps) {}

  async checkout(
    loaders: CommerceLoaders & ReferenceLoaders,
    buyer: { userId: string; tier: MemberTier },
    input: ShippingAddressInput,
    idempotencyKey: string,
  ): Promise<OrderWithItems> {
    if (!IDEMPOTENCY_KEY.test(idempotencyKey))
      throw new BadUserInputError('idempotencyKey must be 8 to 64 of A-Z a-z 0-9 _ . : -', 'idempotencyKey');
    const previous = await this.existing(this.deps.db, buyer.userId, idempotencyKey);
    if (previous) return previous;
    const address = await checkAddress(loaders, input);
    await this.preCheck(loaders, await this.deps.carts.lines(buyer.userId));

    let taken: Inventory[] = [];
    const order = await this.deps.transactions.run(async (tx) => {
      await lockUserCart(tx, buyer.userId);
      const again = await this.existing(tx, buyer.userId, idempotencyKey);
      if (again) return again;
      const { cartId, lines } = await openCartLines(tx, buyer.userId);
      if (!cartId || lines.length === 0) throw new BadUserInputError('the cart is empty', 'cart');
      const created = await createOrder(tx, buyer, lines, address, idempotencyKey);
      await tx.cart.update({ where: { id: cartId }, data: { status: 'CHECKED_OUT' } });
      // Last, so the stock rows stay locked only for these statements and the commit: buyers of one
      // product queue here, not behind the order's inserts.
      taken = await takeStock(tx, lines);
      return created;
    });
    if (taken.length) {
      await this.deps.carts.emptied(buyer.userId);
      await this.deps.stock.changed(taken, { salesChanged: true });
    }
    return order;
  }

  private existing(db: Transaction | Database, userId: string, idempotencyKey: string) {
    return db.order.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey } }, include: ORDER_ITEMS });
  }

  /** Refuses early what the cached stock already says cannot be filled; lets everything else through. */
  private async preCheck(loaders: CommerceLoaders, lines: readonly CartLine[]): Promise<void> {
    const inventories = await loaders.inventory.loadMany(lines.map((l) => l.productId));
    lines.forEach((line, i) => {
      const inventory = inventories[i];
      if (inventory && !(inventory instanceof Error) && inventory.onHand - inventory.reserved < line.quantity)
        throw new OutOfStockError(line.productId);
    });
  }
}

/** The postcode, city and state must agree with the postcode table; returns the zone to ship to. */
async function checkAddress(loaders: ReferenceLoaders, input: ShippingAddressInput): Promise<Address> {
  const line1 = input.line1.trim();
  // Control characters (NUL among them, which PostgreSQL text cannot hold) have no place on a label.
  if (line1.length < 1 || line1.length > 200 || /\p{Cc}/u.test(line1))
    throw new BadUserInputError(
      'shippingAddress.line1 must be 1 to 200 characters, without control characters',
      'shippingAddress.line1',
    );
  const check = await checkPostcode(loaders, { code: input.postcode, city: input.city, state: input.state });
  if (!check.valid) throw new BadUserInputError('shippingAddress.postcode does not exist', 'shippingAddress.postcode');
  if (!check.matches)
    throw new BadUserInputError('shippingAddress: the city and state do not belong to the postcode', 'shippingAddress');
  const zone = await zoneOfPostcode(loaders, check.postcode);
  const state = check.stateId === null ? null : await loaders.state.load(check.stateId);
  if (!zone || !state || !check.city) throw new Error(`postcode ${check.postcode} lost its state or zone`);
  return { line1, postcode: check.postcode, city: check.city, state: state.name, zone };
}

/** One conditional UPDATE per line, in product order; any line short of stock aborts the transaction. */
async function takeStock(tx: Transaction, lines: readonly CartLine[]): Promise<Inventory[]> {
  const taken: Inventory[] = [];
  for (const line of [...lines].sort((a, b) => a.productId - b.productId)) {
    const rows = await tx.$queryRaw<Inventory[]>`
      UPDATE "Inventory" SET "onHand" = "onHand" - ${line.quantity}, "version" = "version" + 1, "updatedAt" = now()
       WHERE "productId" = ${line.productId} AND "onHand" - "reserved" >= ${line.quantity}
      RETURNING *`;
    if (!rows[0]) throw new OutOfStockError(line.productId);
    taken.push(rows[0]);
  }
  const ids = lines.map((l) => l.productId);
  const quantities = lines.map((l) => l.quantity);
  await tx.$executeRaw`
    UPDATE "Product" p SET "salesCount" = p."salesCount" + s.q
      FROM unnest(${ids}::int[], ${quantities}::int[]) AS s(id, q) WHERE p."id" = s.id`;
  return taken;
}

/** Prices as they are in this transaction, for the buyer's tier, frozen into the order's lines. */
async function createOrder(
  tx: Transaction,
  buyer: { userId: string; tier: MemberTier },
  lines: readonly CartLine[],
  address: Address,
  idempotencyKey: string,
): Promise<OrderWithItems> {
  const ids = lines.map((l) => l.productId);
  const [products, memberPrices] = await Promise.all([
    tx.product.findMany({ where: { id: { in: ids } } }),
    buyer.tier === 'REGULAR'
      ? Promise.resolve([])
      : tx.memberPrice.findMany({ where: { productId: { in: ids }, tier: buyer.tier } }),
  ]);
  const productOf = new Map(products.map((p) => [p.id, p]));
  const memberPriceOf = new Map(memberPrices.map((m) => [m.productId, m.price]));
  const items = lines.map((line) => {
    const product = productOf.get(line.productId);
    if (!product) throw new OutOfStockError(line.productId);
    const unitPrice = memberPriceOf.get(product.id) ?? product.price;
    return {
      productId: product.id,
      sku: product.sku,
      name: product.name,
      quantity: line.quantity,
      unitPrice,
      lineTotal: new Prisma.Decimal(unitPrice).mul(line.quantity),
      weightGrams: product.weightGrams * line.quantity,
    };
  });
  const subtotal = items.reduce((sum, item) => sum.add(item.lineTotal), new Prisma.Decimal(0));
  const weightGrams = items.reduce((n, item) => n + item.weightGrams, 0);
  const fee = shippingFee(address.zone, weightGrams);
  const order = await tx.order.create({
    data: {
      userId: buyer.userId,
      idempotencyKey,
      tier: buyer.tier,
      currency: CURRENCY,
      subtotal,
      shippingFee: fee,
      total: subtotal.add(fee),
      weightGrams,
      shippingZone: address.zone.code,
      line1: address.line1,
      postcode: address.postcode,
      city: address.city,
      state: address.state,
    },
  });
  // Two INSERT ... RETURNING statements; a nested create would read both back with two more SELECTs.
  const created = await tx.orderItem.createManyAndReturn({
    data: items.map(({ weightGrams: _w, ...item }) => ({ ...item, orderId: order.id })),
  });
  return { ...order, items: created.sort((x, y) => x.id - y.id) };
}
