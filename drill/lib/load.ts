// Mixed load on the gateways of a drill: readers (product page, product list, event seat map), an admin
// renaming products, shoppers holding seats and confirming bookings, shoppers checking out carts. Every
// call is timed and kept as a sample; what the gateway acknowledged (holds, bookings, orders, writes) is
// kept too, so the checks afterwards can hold it against PostgreSQL. Each loop is paced and bounded in
// both time and count.
import { sleep } from '../../test/support/wait.ts';
import { post, type Outcome } from './http.ts';
import type { DrillGateway, Fixtures } from './stack.ts';

export const READ_PRODUCT = /* GraphQL */ `query DrillProduct($id: ID!) {
  product(id: $id) { id name basePrice category { name } }
}`;
export const READ_LIST = /* GraphQL */ `query DrillList { products(first: 10, sort: PRICE_ASC) { nodes { id name } } }`;
export const READ_SEATS = /* GraphQL */ `query DrillSeats($id: ID!) {
  event(id: $id) { id name seats(section: "H") { id status } }
}`;
const UPDATE = /* GraphQL */ `mutation DrillRename($id: ID!, $name: String!) {
  updateProduct(id: $id, input: { name: $name }) { id name }
}`;
const HOLD = /* GraphQL */ `mutation DrillHold($e: ID!, $s: [ID!]!) { holdSeats(eventId: $e, seatIds: $s) { id } }`;
const CONFIRM = /* GraphQL */ `mutation DrillConfirm($h: ID!, $k: String!) {
  confirmBooking(holdId: $h, idempotencyKey: $k) { id status seats { id } }
}`;
const ADD = /* GraphQL */ `mutation DrillAdd($id: ID!) { addToCart(productId: $id, quantity: 1) { itemCount } }`;
const CHECKOUT = /* GraphQL */ `mutation DrillCheckout($a: ShippingAddressInput!, $k: String!) {
  checkout(shippingAddress: $a, idempotencyKey: $k) { id }
}`;

export type SampleKind = 'read' | 'write' | 'hold' | 'confirm' | 'cart' | 'checkout';

export interface Sample {
  /** ms since the load started, when the call was sent. */
  at: number;
  kind: SampleKind;
  /** product, list or seats for reads; the mutation otherwise. */
  op: string;
  gateway: string;
  ok: boolean;
  ms: number;
  code?: string;
}

export interface LoadOptions {
  fixtures: Fixtures;
  /** The gateways to send to right now (a load balancer's view); called before every request. */
  targets(): DrillGateway[];
  durationMs: number;
  readers?: number;
  /** Write calls (mutations) give up after this long: a write that takes longer counts as hung. */
  /** Client timeout of a read (default 2 s). */
  readTimeoutMs?: number;
  writeTimeoutMs?: number;
}

export interface Load {
  startedAt: number;
  samples: Sample[];
  /** seat id -> ids of the holds the gateway acknowledged for it. */
  heldSeats: Map<string, string[]>;
  bookings: { id: string; seatIds: string[] }[];
  orders: string[];
  /** product id -> the names the admin sent, in order, and how many of them were acknowledged. */
  renames: Map<number, { sent: string[]; acked: string[] }>;
  /** Resolves when every loop has finished (at the deadline). */
  done: Promise<void>;
  /** Ends the loops early. */
  stop(): Promise<void>;
}

const READ_PACE_MS = 20;
const MAX_ITERATIONS = 20_000;

export function startLoad(options: LoadOptions): Load {
  const { fixtures } = options;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  const writeTimeout = options.writeTimeoutMs ?? 5_000;
  const readTimeout = options.readTimeoutMs ?? 2_000;
  let stopped = false;
  const running = (n: number): boolean => !stopped && n < MAX_ITERATIONS && performance.now() < deadline;
  const load: Omit<Load, 'done' | 'stop'> = {
    startedAt,
    samples: [],
    heldSeats: new Map(),
    bookings: [],
    orders: [],
    renames: new Map(),
  };
  let nextTarget = 0;
  const pickTarget = (): DrillGateway | undefined => {
    const targets = options.targets();
    return targets[nextTarget++ % Math.max(1, targets.length)];
  };

  async function call<T>(
    kind: SampleKind,
    op: string,
    query: string,
    variables: Record<string, unknown>,
    headers: Record<string, string> = {},
    /** Refusals that are right answers here (a seat someone else holds): they count as ok. */
    expected: readonly string[] = [],
  ): Promise<Outcome<T> | undefined> {
    const target = pickTarget();
    if (!target) {
      await sleep(50);
      return undefined;
    }
    const at = performance.now() - startedAt;
    const outcome = await post<T>(target.url, query, variables, headers, kind === 'read' ? readTimeout : writeTimeout);
    load.samples.push({
      at,
      kind,
      op,
      gateway: target.name,
      ok: outcome.ok || (outcome.status === 200 && expected.includes(outcome.code ?? '')),
      ms: outcome.ms,
      ...(outcome.code && { code: outcome.code }),
    });
    return outcome;
  }

  async function reader(k: number): Promise<void> {
    for (let n = 0; running(n); n++) {
      const t0 = performance.now();
      const which = (n + k) % 5;
      if (which < 3) {
        const id = fixtures.hotProductIds[(n * 7 + k) % fixtures.hotProductIds.length];
        await call('read', 'product', READ_PRODUCT, { id: String(id) });
      } else if (which === 3) await call('read', 'list', READ_LIST, {});
      else await call('read', 'seats', READ_SEATS, { id: fixtures.eventId });
      await sleep(Math.max(0, READ_PACE_MS - (performance.now() - t0)));
    }
  }

  async function writer(): Promise<void> {
    for (let n = 0; running(n); n++) {
      const id = fixtures.writeProductIds[n % fixtures.writeProductIds.length]!;
      const name = `Drill rename ${n}`;
      const renames = load.renames.get(id) ?? { sent: [], acked: [] };
      load.renames.set(id, renames);
      renames.sent.push(name);
      const reply = await call<{ updateProduct: { name: string } }>(
        'write',
        'updateProduct',
        UPDATE,
        {
          id: String(id),
          name,
        },
        fixtures.admin,
      );
      if (reply?.ok) renames.acked.push(name);
      await sleep(200);
    }
  }

  let seatCursor = 0;
  async function holder(k: number): Promise<void> {
    const shopper = fixtures.shoppers[k]!;
    for (let n = 0; running(n) && seatCursor < fixtures.seatIds.length; n++) {
      // Every third try goes for the seat someone else just took: contention, so a double hold would show.
      const seatId =
        n % 3 === 2 && seatCursor > 0 ? fixtures.seatIds[seatCursor - 1]! : fixtures.seatIds[seatCursor++]!;
      const held = await call<{ holdSeats: { id: string } }>(
        'hold',
        'holdSeats',
        HOLD,
        {
          e: fixtures.eventId,
          s: [seatId],
        },
        shopper.headers,
        ['SEATS_UNAVAILABLE'],
      );
      const holdId = held?.data?.holdSeats?.id;
      if (holdId) {
        load.heldSeats.set(seatId, [...(load.heldSeats.get(seatId) ?? []), holdId]);
        const booked = await call<{ confirmBooking: { id: string; seats: { id: string }[] } }>(
          'confirm',
          'confirmBooking',
          CONFIRM,
          { h: holdId, k: `drill-${holdId}` },
          shopper.headers,
        );
        const booking = booked?.ok ? booked.data?.confirmBooking : undefined;
        if (booking) load.bookings.push({ id: booking.id, seatIds: booking.seats.map((s) => s.id) });
      }
      await sleep(100);
    }
  }

  async function buyer(k: number): Promise<void> {
    const shopper = fixtures.shoppers[k]!;
    for (let n = 0; running(n); n++) {
      const productId = fixtures.checkoutProductIds[(n + k) % fixtures.checkoutProductIds.length]!;
      const added = await call('cart', 'addToCart', ADD, { id: String(productId) }, shopper.headers);
      if (added?.ok) {
        const reply = await call<{ checkout: { id: string } }>(
          'checkout',
          'checkout',
          CHECKOUT,
          { a: fixtures.address, k: `drill-${k}-${n}` },
          shopper.headers,
        );
        if (reply?.ok && reply.data) load.orders.push(reply.data.checkout.id);
      }
      await sleep(150);
    }
  }

  const holders = Math.min(3, fixtures.shoppers.length);
  const buyers = Math.min(2, fixtures.shoppers.length - holders);
  const done = Promise.all([
    ...Array.from({ length: options.readers ?? 4 }, (_, k) => reader(k)),
    writer(),
    ...Array.from({ length: holders }, (_, k) => holder(k)),
    ...Array.from({ length: buyers }, (_, k) => buyer(holders + k)),
  ]).then(() => undefined);
  return {
    ...load,
    done,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** Samples of `kind` (and `ops`, if given) sent in [from, to) ms after the load started. */
export function samplesBetween(
  samples: readonly Sample[],
  from: number,
  to: number,
  kind: SampleKind,
  ops?: readonly string[],
): Sample[] {
  return samples.filter((s) => s.kind === kind && s.at >= from && s.at < to && (!ops || ops.includes(s.op)));
}
