// Worker thread of `npm run bench:ticketing`: N graphql-ws subscribers to one event's seatsChanged. For each
// seat a subscriber first sees HELD, the latency from the moment the main thread sent that hold (a shared
// Float64Array of send times, epoch ms) goes into a 0.1 ms histogram; a per-subscriber bitmap of seats seen
// lets the main thread count changes that never arrived. Kept off the main thread so the hold generator's
// timing is not disturbed by parsing the subscribers' messages.
import { parentPort, workerData } from 'node:worker_threads';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

interface Input {
  wsUrl: string;
  eventId: string;
  seatIds: string[];
  subscribers: number;
  sentAt: SharedArrayBuffer;
}

const BUCKET_MS = 0.1;
const BUCKETS = 100_000; // up to 10 s

const input = workerData as Input;
const sentAt = new Float64Array(input.sentAt);
const indexOf = new Map(input.seatIds.map((id, i) => [id, i]));
const histogram = new Uint32Array(BUCKETS + 1);
const seen = Array.from({ length: input.subscribers }, () => new Uint8Array(input.seatIds.length));
let messages = 0;
let snapshots = 0;
let errors = 0;
let live = 0;

const now = (): number => performance.timeOrigin + performance.now();
const QUERY = `subscription S($e: ID!) { seatsChanged(eventId: $e) { sequence snapshot seats { id status } } }`;

const clients = Array.from({ length: input.subscribers }, (_, k) => {
  const client = createClient({ url: input.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  client.subscribe(
    { query: QUERY, variables: { e: input.eventId } },
    {
      next: (result) => {
        const change = (
          result.data as { seatsChanged?: { snapshot: boolean; seats: { id: string; status: string }[] } }
        )?.seatsChanged;
        if (!change) {
          errors += 1;
          return;
        }
        messages += 1;
        if (change.snapshot) snapshots += 1;
        const at = now();
        const mine = seen[k]!;
        for (const seat of change.seats) {
          if (seat.status !== 'HELD') continue;
          const index = indexOf.get(seat.id);
          if (index === undefined || mine[index]) continue;
          mine[index] = 1;
          const sent = sentAt[index]!;
          if (sent > 0) histogram[Math.min(BUCKETS, Math.max(0, Math.round((at - sent) / BUCKET_MS)))]! += 1;
        }
      },
      error: () => {
        errors += 1;
      },
      complete: () => undefined,
    },
  );
  client.on('connected', () => {
    live += 1;
  });
  return client;
});

parentPort!.on('message', async (message: { type: string }) => {
  if (message.type === 'status') parentPort!.postMessage({ type: 'status', live, messages });
  if (message.type === 'finish') {
    const seenCounts = seen.map((bits) => bits);
    parentPort!.postMessage({ type: 'result', histogram, seen: seenCounts, messages, snapshots, errors });
    await Promise.allSettled(clients.map((c) => c.dispose()));
    parentPort!.close();
  }
});
