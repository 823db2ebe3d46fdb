// `npm run bench:ticketing`: seat holds and live seat maps through GraphQL over HTTP and WebSocket, against
// one cachegate child process over a private PostgreSQL and redis-server (bench/lib/infra.ts).
//   1. hold latency at a fixed 1,000 holds/s (autocannon overallRate, coordinated omission corrected);
//   2. the highest sustained holds/s (closed loop, BENCH_CONNECTIONS connections);
//   3. hold-to-subscriber latency: 1,000 graphql-ws subscribers to one event (in a worker thread) while
//      holds change 500 seats/s, from the moment a hold is sent to the moment each subscriber sees the seat
//      HELD, and the changes that never reached a subscriber.
// Every hold is a new seat for its customer (no contention), so every request does the full work: the Lua
// lock, the PostgreSQL mirror, the invalidation and the publish. Writes bench/results/ticketing.{json,md}.
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { createCustomers, createEvent, type Customer, type TestEvent } from '../test/ticketing/kit.ts';
import { ChildServer } from './lib/children.ts';
import { startInfra } from './lib/infra.ts';

const int = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const knobs = {
  seconds: int('BENCH_SECONDS', 10),
  holdRate: int('BENCH_HOLD_RATE', 1_000),
  connections: int('BENCH_CONNECTIONS', 64),
  subscribers: int('BENCH_SUBSCRIBERS', 1_000),
  changeRate: int('BENCH_CHANGE_RATE', 500),
  customers: 1_200,
};

const HOLD = 'mutation H($e: ID!, $s: [ID!]!) { holdSeats(eventId: $e, seatIds: $s) { id } }';
const log = (message: string): void =>
  console.error(`[bench:ticketing ${new Date().toISOString().slice(11, 19)}] ${message}`);
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface HoldRun {
  sent: number;
  held: number;
  refused: number;
  seconds: number;
  heldPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** One hold per request: request i holds `seatOf(i)` for `customerOf(i)`; `onSent`/`onHeld` see each i. */
function holdLoad(
  url: string,
  options: { connections: number; seconds: number; rate?: number },
  next: () => { eventId: string; seatId: string; customer: Customer; index: number },
  hooks: { onSent?: (index: number) => void; onHeld?: (index: number) => void } = {},
): Promise<HoldRun> {
  let sent = 0;
  let held = 0;
  let refused = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: options.connections,
        duration: options.seconds,
        ...(options.rate && { overallRate: options.rate }),
        timeout: 10,
        method: 'POST',
        requests: [
          {
            method: 'POST',
            setupRequest: (request, context) => {
              const hold = next();
              (context as { index?: number }).index = hold.index;
              sent += 1;
              hooks.onSent?.(hold.index);
              request.headers = { 'content-type': 'application/json', ...hold.customer.headers };
              request.body = JSON.stringify({ query: HOLD, variables: { e: hold.eventId, s: [hold.seatId] } });
              return request;
            },
            onResponse: (_status, body, context) => {
              if (body.includes('"holdSeats":{')) {
                held += 1;
                hooks.onHeld?.((context as { index: number }).index);
              } else refused += 1;
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const { latency, duration } = result;
        resolve({
          sent,
          held,
          refused,
          seconds: duration,
          heldPerSecond: held / duration,
          p50: latency.p50,
          p90: latency.p90,
          p99: latency.p99,
          max: latency.max,
        });
      },
    );
  });
}

/** Request i: event i % events.length, seat i / events.length, the customer of that seat number. */
function spread(events: TestEvent[], customers: Customer[]) {
  let i = 0;
  return () => {
    const index = i++;
    const event = events[index % events.length]!;
    const seat = Math.floor(index / events.length) % event.seatIds.length;
    return { eventId: event.id, seatId: event.seatIds[seat]!, customer: customers[seat % customers.length]!, index };
  };
}

async function eventsOf(databaseUrl: string, count: number, seats: number): Promise<TestEvent[]> {
  const events: TestEvent[] = [];
  for (let i = 0; i < count; i++) events.push(await createEvent(databaseUrl, seats));
  return events;
}

const post = (url: string, query: string, variables: unknown, headers: Record<string, string>) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  }).then((r) => r.arrayBuffer());

/** A running sale has every customer's session in Redis already (one request each): not measured. */
async function warmSessions(url: string, customers: Customer[]): Promise<void> {
  for (let i = 0; i < customers.length; i += 50)
    await Promise.all(customers.slice(i, i + 50).map((c) => post(url, '{ __typename }', {}, c.headers)));
}

/** ... and each event's lock state loaded in Redis (one hold of its last seat): not measured either. */
async function primeEvents(url: string, customers: Customer[], events: TestEvent[]): Promise<void> {
  for (const [i, event] of events.entries()) {
    const customer = customers[customers.length - 1 - (i % 10)]!;
    await post(url, HOLD, { e: event.id, s: [event.seatIds.at(-1)] }, customer.headers);
  }
}

function percentile(histogram: Uint32Array, total: number, q: number): number {
  let running = 0;
  for (let bucket = 0; bucket < histogram.length; bucket++) {
    running += histogram[bucket]!;
    if (running >= q * total) return bucket / 10;
  }
  return Number.NaN;
}

interface DeliveryRun {
  subscribers: number;
  holdRun: HoldRun;
  deliveries: number;
  expected: number;
  lost: number;
  messages: number;
  snapshots: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
}

async function delivery(url: string, databaseUrl: string, customers: Customer[]): Promise<DeliveryRun> {
  const event = await createEvent(databaseUrl, knobs.changeRate * (knobs.seconds + 2));
  await primeEvents(url, customers, [event]);
  const sentAt = new SharedArrayBuffer(event.seatIds.length * 8);
  const sent = new Float64Array(sentAt);
  // Node 20 workers ignore --import in execArgv: register tsx inside the worker, then load the module.
  const entry = new URL('./lib/seat-subscribers.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, {
    eval: true,
    workerData: {
      wsUrl: url.replace(/^http/, 'ws'),
      eventId: event.id,
      seatIds: event.seatIds,
      subscribers: knobs.subscribers,
      sentAt,
    },
  });
  const failed = new Promise<never>((_, reject) => worker.once('error', reject));
  const ask = <T>(type: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type === (type === 'finish' ? 'result' : type)) {
          worker.off('message', onMessage);
          resolve(message as T);
        }
      };
      worker.on('message', onMessage);
      worker.postMessage({ type });
      failed.catch(reject);
    });
  for (let waited = 0; ; waited += 500) {
    const { live } = await ask<{ live: number }>('status');
    if (live >= knobs.subscribers) break;
    if (waited > 60_000) throw new Error(`only ${live} of ${knobs.subscribers} subscribers connected`);
    await sleep(500);
  }
  await sleep(1_000); // connected is not subscribed: give the last subscriptions a moment
  log(`${knobs.subscribers} subscribers live; ${knobs.changeRate} holds/s for ${knobs.seconds} s`);
  const heldSeats: number[] = [];
  const holdRun = await holdLoad(
    url,
    { connections: 32, seconds: knobs.seconds, rate: knobs.changeRate },
    spread([event], customers),
    { onSent: (i) => (sent[i] = now()), onHeld: (i) => heldSeats.push(i) },
  );
  // Stragglers: wait until nothing more arrives for 5 s (at most 60 s); what never arrives is lost.
  let quietSince = Date.now();
  let last = -1;
  for (const started = Date.now(); Date.now() - quietSince < 5_000 && Date.now() - started < 60_000; ) {
    await sleep(250);
    const { messages } = await ask<{ messages: number }>('status');
    if (messages !== last) quietSince = Date.now();
    last = messages;
  }
  const result = await ask<{
    histogram: Uint32Array;
    seen: Uint8Array[];
    messages: number;
    snapshots: number;
    errors: number;
  }>('finish');
  await worker.terminate();
  let lost = 0;
  for (const bits of result.seen) for (const i of heldSeats) if (!bits[i]) lost += 1;
  const deliveries = result.histogram.reduce((a, b) => a + b, 0);
  return {
    subscribers: knobs.subscribers,
    holdRun,
    deliveries,
    expected: heldSeats.length * knobs.subscribers,
    lost,
    messages: result.messages,
    snapshots: result.snapshots,
    errors: result.errors,
    p50: percentile(result.histogram, deliveries, 0.5),
    p95: percentile(result.histogram, deliveries, 0.95),
    p99: percentile(result.histogram, deliveries, 0.99),
  };
}

function markdown(results: { fixed: HoldRun; max: HoldRun; delivery: DeliveryRun }, machine: string): string {
  const { fixed, max, delivery: d } = results;
  const ms = (n: number): string => `${n.toFixed(1)} ms`;
  return [
    `# bench:ticketing (${new Date().toISOString()})`,
    '',
    `${machine}. One cachegate process, PostgreSQL and redis-server on the same machine as the load.`,
    '',
    '| holds | sent | held | refused | held/s | p50 | p90 | p99 | max |',
    '| ----- | ---- | ---- | ------- | ------ | --- | --- | --- | --- |',
    ...[
      [`fixed ${knobs.holdRate}/s`, fixed],
      [`closed loop, ${knobs.connections} connections`, max],
    ].map(([label, r]) => {
      const run = r as HoldRun;
      const cells = [label, run.sent, run.held, run.refused, run.heldPerSecond.toFixed(0)];
      return `| ${[...cells, ...[run.p50, run.p90, run.p99, run.max].map(ms)].join(' | ')} |`;
    }),
    '',
    `| hold → subscriber (${d.subscribers} subscribers, ${knobs.changeRate} changes/s) | value |`,
    '| --- | --- |',
    `| holds held / sent | ${d.holdRun.held} / ${d.holdRun.sent} (hold p99 ${ms(d.holdRun.p99)}) |`,
    `| deliveries (seat seen HELD by a subscriber) | ${d.deliveries} of ${d.expected} |`,
    `| lost (never seen) | ${d.lost} |`,
    `| messages received / snapshots / errors | ${d.messages} / ${d.snapshots} / ${d.errors} |`,
    `| latency p50 / p95 / p99 | ${ms(d.p50)} / ${ms(d.p95)} / ${ms(d.p99)} |`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  const loadBefore = os.loadavg();
  try {
    const infra = await startInfra('small', (destroy) => cleanups.push(destroy));
    log(`PostgreSQL :${infra.pg.port}, Redis :${infra.redis.port}`);
    const customers = await createCustomers(infra.databaseUrl, knobs.customers);
    const rate = '1000000000';
    const server = await ChildServer.start({
      name: 'cachegate',
      entry: 'cachegate.ts',
      env: {
        DATABASE_URL: infra.databaseUrl,
        REDIS_URL: infra.redis.url,
        RATE_LIMIT_READS_PER_MINUTE: rate,
        RATE_LIMIT_WRITES_PER_MINUTE: rate,
        RATE_LIMIT_HOLDS_PER_MINUTE: rate,
        TICKETING_HOLD_TTL_SECONDS: '3600',
      },
    });
    cleanups.push(() => server.stop());
    const perEvent = 1_000;
    await warmSessions(server.url, customers);
    const fixedEvents = await eventsOf(
      infra.databaseUrl,
      Math.ceil((knobs.holdRate * (knobs.seconds + 2)) / perEvent),
      perEvent,
    );
    await primeEvents(server.url, customers, fixedEvents);
    log(`fixed rate: ${knobs.holdRate} holds/s for ${knobs.seconds} s`);
    const fixed = await holdLoad(
      server.url,
      { connections: knobs.connections, seconds: knobs.seconds, rate: knobs.holdRate },
      spread(fixedEvents, customers),
    );
    const maxEvents = await eventsOf(infra.databaseUrl, 30, perEvent);
    await primeEvents(server.url, customers, maxEvents);
    log(`closed loop: ${knobs.connections} connections for ${knobs.seconds} s`);
    const max = await holdLoad(
      server.url,
      { connections: knobs.connections, seconds: knobs.seconds },
      spread(maxEvents, customers),
    );
    const deliveryRun = await delivery(server.url, infra.databaseUrl, customers);
    const load = (values: number[]): string => values.map((v) => v.toFixed(1)).join(' ');
    const machine =
      `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ` +
      `load average ${load(loadBefore)} before, ${load(os.loadavg())} after`;
    const results = { fixed, max, delivery: deliveryRun };
    const text = markdown(results, machine);
    const dir = new URL('./results/', import.meta.url);
    await mkdir(dir, { recursive: true });
    await writeFile(new URL('ticketing.json', dir), `${JSON.stringify({ machine, knobs, ...results }, null, 2)}\n`);
    await writeFile(new URL('ticketing.md', dir), text);
    console.log(text);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log(String(error)));
  }
}

await main();
