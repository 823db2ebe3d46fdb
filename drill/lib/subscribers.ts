// graphql-ws subscribers for the drills, written as a careful client would be: when the socket drops
// (a gateway died) they reconnect, to the next gateway the load balancer offers, and resubscribe to
// seatsChanged with afterSequence = the last sequence they saw, so the gateway replays what they missed
// (or sends a snapshot). Each keeps its own view of the seat map, to hold against PostgreSQL afterwards.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { sleep } from '../../test/support/wait.ts';
import type { DrillGateway } from './stack.ts';

const SEATS = /* GraphQL */ `subscription DrillSeats($e: ID!, $after: Int) {
  seatsChanged(eventId: $e, afterSequence: $after) { sequence snapshot seats { id status } }
}`;
const STOCK = /* GraphQL */ `subscription DrillStock($p: ID!) { inventoryChanged(productId: $p) { onHand available } }`;

interface SeatChange {
  sequence: number;
  snapshot: boolean;
  seats: { id: string; status: string }[];
}

export interface Watcher {
  name: string;
  /** ms (performance.now()) of every message received. */
  receivedAt: number[];
  errors: string[];
  /** Times the socket was opened again after it dropped. */
  reconnects: number;
  close(): Promise<void>;
}

export interface SeatWatcher extends Watcher {
  seats: Map<string, string>;
  lastSequence: number | undefined;
  snapshots: number;
  /** Live changes whose sequence was not the one after the last seen: a change went missing. */
  gaps: number;
}

export interface StockWatcher extends Watcher {
  productId: number;
  last: { onHand: number; available: number } | undefined;
  /** The stock when the subscription opened (before the load): what a subscriber that heard nothing knows. */
  initial?: number;
}

type Targets = () => DrillGateway[];

/** Keeps one subscription alive across dropped sockets; `variables` is asked again on every (re)subscribe. */
function keepSubscribed<T>(
  watcher: Watcher,
  targets: Targets,
  start: number,
  query: string,
  variables: () => Record<string, unknown>,
  onData: (data: T) => void,
): Promise<void> {
  let client: Client | undefined;
  let closed = false;
  const loop = async (): Promise<void> => {
    for (let attempt = 0; !closed && attempt < 1_000; attempt++) {
      const live = targets();
      const target = live[(start + attempt) % Math.max(1, live.length)];
      if (attempt > 0) watcher.reconnects += 1;
      if (!target) {
        await sleep(200);
        continue;
      }
      client = createClient({ url: target.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      try {
        for await (const result of client.iterate<T>({ query, variables: variables() })) {
          watcher.receivedAt.push(performance.now());
          if (result.errors) watcher.errors.push(result.errors.map((e) => e.message).join('; '));
          else if (result.data) onData(result.data);
        }
      } catch (error) {
        if (!closed) watcher.errors.push(describe(error));
      }
      await client.dispose();
      if (!closed) await sleep(200);
    }
  };
  const running = loop();
  watcher.close = async () => {
    closed = true;
    await client?.dispose();
    await running;
  };
  return running;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const event = error as { code?: number; reason?: string };
  return event.code !== undefined ? `socket closed (${event.code} ${event.reason ?? ''})` : String(error);
}

export function watchSeats(name: string, targets: Targets, start: number, eventId: string): SeatWatcher {
  const watcher: SeatWatcher = {
    name,
    receivedAt: [],
    errors: [],
    reconnects: 0,
    seats: new Map(),
    lastSequence: undefined,
    snapshots: 0,
    gaps: 0,
    close: async () => undefined,
  };
  const variables = (): Record<string, unknown> => ({
    e: eventId,
    ...(watcher.lastSequence !== undefined && { after: watcher.lastSequence }),
  });
  void keepSubscribed<{ seatsChanged: SeatChange }>(watcher, targets, start, SEATS, variables, (data) => {
    const change = data.seatsChanged;
    if (change.snapshot) {
      watcher.snapshots += 1;
      watcher.seats.clear();
    } else if (watcher.lastSequence !== undefined && change.sequence !== watcher.lastSequence + 1) {
      watcher.gaps += 1;
    }
    for (const seat of change.seats) watcher.seats.set(seat.id, seat.status);
    watcher.lastSequence = change.sequence;
  });
  return watcher;
}

export function watchStock(name: string, targets: Targets, start: number, productId: number): StockWatcher {
  const watcher: StockWatcher = {
    name,
    receivedAt: [],
    errors: [],
    reconnects: 0,
    productId,
    last: undefined,
    close: async () => undefined,
  };
  void keepSubscribed<{ inventoryChanged: { onHand: number; available: number } }>(
    watcher,
    targets,
    start,
    STOCK,
    () => ({ p: String(productId) }),
    (data) => {
      watcher.last = data.inventoryChanged;
    },
  );
  return watcher;
}

/** Waits until every watcher has its socket open and subscribed (a first message is not needed). */
export async function settleSubscribers(ms = 1_000): Promise<void> {
  await sleep(ms);
}
