// What must hold in PostgreSQL after any drill, whatever the fault: nothing the gateway acknowledged is
// lost, no seat is held or booked twice, no stock went below zero, the stock taken equals what the orders
// bought, every acknowledged rename is there (or a later one), and every subscriber's view of the seat map
// agrees with the database.
import type pg from 'pg';
import { sleep } from '../../test/support/wait.ts';
import type { Load } from './load.ts';
import { isTrue, zero, type Check } from './scenario.ts';
import type { Fixtures } from './stack.ts';
import type { SeatWatcher, StockWatcher } from './subscribers.ts';

/** The stock each checkout product was given before the load (stack.ts). */
const STARTING_STOCK = 100_000;

export async function committedChecks(sql: pg.Client, fixtures: Fixtures, load: Load): Promise<Check[]> {
  const doubleHolds = [...load.heldSeats.values()].filter((holds) => new Set(holds).size > 1).length;
  const bookedTwice = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM (SELECT "seatId" FROM "BookingSeat" GROUP BY 1 HAVING count(*) > 1) t',
  );
  const bookingIds = load.bookings.map((b) => b.id);
  const storedBookings = await sql.query<{ id: string; seats: string[] }>(
    `SELECT b.id, array_agg(bs."seatId"::text ORDER BY bs."seatId") AS seats FROM "Booking" b
       JOIN "BookingSeat" bs ON bs."bookingId" = b.id WHERE b.id = ANY($1::uuid[]) AND b.status = 'CONFIRMED'
      GROUP BY b.id`,
    [bookingIds],
  );
  const stored = new Map(storedBookings.rows.map((r) => [r.id, r.seats.join(',')]));
  const lostBookings = load.bookings.filter((b) => stored.get(b.id) !== [...b.seatIds].sort().join(',')).length;
  const storedOrders = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM "Order" WHERE id = ANY($1::uuid[])',
    [load.orders],
  );
  const negative = await sql.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM "Inventory" WHERE "onHand" < 0 OR reserved < 0 OR reserved > "onHand"',
  );
  const stock = await sql.query<{ taken: number; bought: number }>(
    `SELECT (SELECT coalesce(sum($2::int - "onHand"), 0)::int FROM "Inventory" WHERE "productId" = ANY($1)) AS taken,
            (SELECT coalesce(sum(quantity), 0)::int FROM "OrderItem" WHERE "productId" = ANY($1)) AS bought`,
    [fixtures.checkoutProductIds, STARTING_STOCK],
  );
  const { taken, bought } = stock.rows[0]!;
  const names = await sql.query<{ id: number; name: string }>('SELECT id, name FROM "Product" WHERE id = ANY($1)', [
    [...load.renames.keys()],
  ]);
  const lostRenames = names.rows.filter((row) => {
    const renames = load.renames.get(row.id)!;
    const lastAcked = renames.acked.at(-1);
    if (lastAcked === undefined) return false;
    return !renames.sent.slice(renames.sent.indexOf(lastAcked)).includes(row.name);
  }).length;
  return [
    zero('seats acknowledged to two holds', doubleHolds),
    zero('seats booked twice (PostgreSQL)', bookedTwice.rows[0]!.n),
    zero(`acknowledged bookings missing from PostgreSQL (of ${bookingIds.length})`, lostBookings),
    zero(
      `acknowledged orders missing from PostgreSQL (of ${load.orders.length})`,
      load.orders.length - storedOrders.rows[0]!.n,
    ),
    zero('stock rows below zero', negative.rows[0]!.n),
    isTrue('units taken from stock = units ordered', taken === bought, `${taken} taken, ${bought} ordered`),
    zero('acknowledged renames lost', lostRenames),
  ];
}

/** Seats whose subscriber view disagrees with PostgreSQL (changed seats only: subscribers start live). */
async function seatMismatches(sql: pg.Client, eventId: string, watcher: SeatWatcher): Promise<number> {
  const { rows } = await sql.query<{ id: string; status: string }>(
    `SELECT id, status FROM "Seat" WHERE "eventId" = $1`,
    [eventId],
  );
  let wrong = 0;
  for (const row of rows) {
    const seen = watcher.seats.get(row.id);
    if (seen === undefined ? row.status !== 'AVAILABLE' : seen !== row.status) wrong += 1;
  }
  return wrong;
}

/**
 * Every seat subscriber ends with the database's seat map (waits up to `settleMs` for the last changes to
 * arrive): a change missed on reconnect would leave a seat wrong for good.
 */
export async function subscriberChecks(
  sql: pg.Client,
  eventId: string,
  watchers: readonly SeatWatcher[],
  settleMs = 5_000,
): Promise<Check[]> {
  const deadline = performance.now() + settleMs;
  let wrong: number[] = [];
  do {
    wrong = [];
    for (const w of watchers) wrong.push(await seatMismatches(sql, eventId, w));
    if (wrong.every((n) => n === 0)) break;
    await sleep(250);
  } while (performance.now() < deadline);
  const gaps = watchers.reduce((sum, w) => sum + w.gaps, 0);
  return [
    zero(`seats whose subscriber view differs from PostgreSQL (${watchers.length} subscribers)`, sum(wrong)),
    zero('sequence gaps in live seat changes', gaps),
  ];
}

/** Stock before the load: a product no checkout changed is never pushed, and that is right. */
export async function noteInitialStock(sql: pg.Client, watchers: readonly StockWatcher[]): Promise<void> {
  const onHand = await stockOf(sql, watchers);
  for (const w of watchers) w.initial = onHand.get(w.productId);
}

async function stockOf(sql: pg.Client, watchers: readonly StockWatcher[]): Promise<Map<number, number>> {
  const { rows } = await sql.query<{ productId: number; onHand: number }>(
    'SELECT "productId", "onHand" FROM "Inventory" WHERE "productId" = ANY($1)',
    [watchers.map((w) => w.productId)],
  );
  return new Map(rows.map((r) => [r.productId, r.onHand]));
}

/**
 * Every stock subscriber's last inventoryChanged (or, with none, the stock when it subscribed) shows
 * PostgreSQL's stock, waiting up to `settleMs`: the checkouts after a fault were heard, on the same socket or
 * after a reconnect, and pushes missed while Redis was away were sent again.
 */
export async function stockChecks(sql: pg.Client, watchers: readonly StockWatcher[], settleMs = 5_000): Promise<Check> {
  const deadline = performance.now() + settleMs;
  let stale: StockWatcher[] = [];
  let onHand = new Map<number, number>();
  do {
    onHand = await stockOf(sql, watchers);
    stale = watchers.filter((w) => (w.last?.onHand ?? w.initial) !== onHand.get(w.productId));
    if (stale.length === 0) break;
    await sleep(250);
  } while (performance.now() < deadline);
  const check = zero(
    `stock subscribers whose last inventoryChanged differs from PostgreSQL (of ${watchers.length})`,
    stale.length,
  );
  // Enough to tell a push never sent from one sent to nobody: what it heard, how often, and its reconnects.
  const detail = stale.map(
    (w) =>
      `product ${w.productId} last heard ${w.last?.onHand ?? 'nothing'}, PostgreSQL ${onHand.get(w.productId)}, ` +
      `${w.receivedAt.length} pushes heard, ${w.reconnects} reconnects`,
  );
  return detail.length > 0 ? { ...check, value: `${stale.length} (${detail.join(', ')})` } : check;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);
