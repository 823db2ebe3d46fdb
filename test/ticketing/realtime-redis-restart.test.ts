// A live seatsChanged subscriber across a redis-server that dies (SIGKILL) and comes back empty: the
// sequence counter in Redis is gone, yet the subscriber hears the snapshot of what changed during the
// outage and every change after it, with sequence numbers that keep going up (a subscriber drops numbers
// it has already passed, so a numbering that started again at 1 would be silently ignored).
import { expect, it } from 'vitest';
import * as kit from './kit.ts';

const fixture = kit.useFixture(6);

it('a live subscriber hears changes made during and after a Redis restart that lost the log', async () => {
  const { gateway, redis, customers, database } = fixture;
  const { event, recorder } = await kit.eventWithRecorder(gateway, database.url, 10);
  const hold = (k: number) =>
    gateway.query(kit.HOLD, { eventId: event.id, seatIds: [event.seatIds[k]] }, customers[k]!.headers);
  await new Promise((resolve) => setTimeout(resolve, 200)); // graphql-ws gives no "subscribed" signal
  for (const k of [0, 1, 2]) {
    await hold(k);
    await kit.eventually(() => recorder.received.length > k, 5_000, `change ${k + 1}`);
  }
  const before = recorder.received.at(-1)!.sequence;

  redis.signal('SIGKILL');
  expect((await hold(3)).body.data).toBeTruthy(); // committed in PostgreSQL, not published
  await redis.start();
  const seen = (k: number) => kit.applyChanges(new Map(), recorder.received).get(event.seatIds[k]!) === 'HELD';
  await kit.eventually(() => seen(3), 10_000, 'the change made during the outage');
  await hold(4);
  await kit.eventually(() => seen(4), 5_000, 'a change made after the restart');

  const sequences = recorder.received.map((c) => c.sequence);
  expect(sequences.every((s, i) => i === 0 || s > sequences[i - 1]!)).toBe(true);
  expect(sequences.at(-1)).toBeGreaterThan(before);
  const map = kit.applyChanges(new Map(), recorder.received);
  const truth = await kit.seatMapInPostgres(database.url, event.id);
  for (const k of [0, 1, 2, 3, 4]) expect(map.get(event.seatIds[k]!)).toBe(truth.get(event.seatIds[k]!));
  await recorder.close();
});
