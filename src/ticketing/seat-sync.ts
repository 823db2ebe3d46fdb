// What every committed seat change is followed by: Redis's seat lock is told (or, when it cannot be, the
// event is remembered and its lock state rebuilt from PostgreSQL once Redis is back), the cached seat map
// is dropped on every instance, and the change is published. PostgreSQL is the truth: nothing here can
// fail the request whose change already committed.
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { EVENT_LISTS_TAG } from './event-listing.ts';
import { lockStateOf } from './hold-queries.ts';
import type { SeatChangePublisher } from './seat-change-publisher.ts';
import { heldValue, holdValue, type EventLockState, type SeatLock } from './seat-lock.ts';

export class SeatSync {
  /** Events changed while Redis could not be told: their lock state is rebuilt when it answers again. */
  private readonly unsynced = new Set<string>();
  private readonly log: Logger;

  constructor(
    readonly deps: {
      db: Database;
      lock: SeatLock | undefined;
      redis: RedisCircuit | undefined;
      publisher: SeatChangePublisher;
      cache: EntityCache;
      keys: KeyBuilder;
      logger: Logger;
    },
  ) {
    this.log = deps.logger.child({ component: 'seat-sync' });
    deps.redis?.on('recovered', () => void this.resync());
  }

  /** The Redis lock, when it can be used right now. */
  get lock(): SeatLock | undefined {
    return this.deps.lock?.available ? this.deps.lock : undefined;
  }

  /** Tells Redis what PostgreSQL committed; a failure only defers it to the resync. */
  async inRedis(eventId: string, work: (lock: SeatLock) => Promise<unknown>): Promise<void> {
    const lock = this.deps.lock;
    if (!lock) return;
    try {
      if (!lock.available) throw new Error('redis circuit open');
      await work(lock);
    } catch (error) {
      this.unsynced.add(eventId);
      this.log.debug({ err: error, eventId }, 'seat lock not updated; rebuilt from PostgreSQL when redis is back');
    }
  }

  /** Marks an event's Redis state as untrusted (it disagreed with PostgreSQL): the next hold rebuilds it. */
  async distrust(eventId: string): Promise<void> {
    await this.inRedis(eventId, (lock) => lock.forget([eventId]));
  }

  /** Loads the event's held and booked seats from PostgreSQL into Redis (when Redis has none). */
  async prime(lock: SeatLock, eventId: string): Promise<void> {
    const rows = await lockStateOf(this.deps.db, eventId);
    const state: EventLockState = { all: rows.map((r) => r.seatId), seats: {}, holds: {}, users: {} };
    const holds = new Map<string, { userId: string; expiresAt: Date; createdAt: Date; seats: string[] }>();
    for (const row of rows) {
      if (row.status === 'BOOKED') state.seats[row.seatId] = 'B';
      else if (row.holdId && row.userId && row.expiresAt && row.createdAt) {
        state.seats[row.seatId] = heldValue(row.holdId);
        const { userId, expiresAt, createdAt } = row;
        const hold = holds.get(row.holdId) ?? { userId, expiresAt, createdAt, seats: [] };
        hold.seats.push(row.seatId);
        holds.set(row.holdId, hold);
      }
    }
    for (const [id, hold] of holds) {
      state.holds[id] = holdValue(hold.userId, hold.expiresAt, hold.createdAt, hold.seats);
      state.users[hold.userId] = id;
    }
    await lock.prime(eventId, state);
  }

  /**
   * After a commit: drop the cached seat map everywhere (and the event, its venue's list and every event
   * list when the event's status changed: pass `statusChanged` with its venue), then publish.
   */
  async committed(eventId: string, seatIds: readonly string[], statusChanged?: { venueId: string }): Promise<void> {
    const { cache, keys } = this.deps;
    await cache.invalidate([
      keys.entityKey('Event.seats', eventId),
      ...(statusChanged
        ? [keys.entityKey('Event', eventId), keys.entityKey('Venue.events', statusChanged.venueId)]
        : []),
    ]);
    if (statusChanged) await cache.invalidateTags([EVENT_LISTS_TAG]);
    this.deps.publisher.changed(eventId, seatIds);
  }

  private async resync(): Promise<void> {
    const events = [...this.unsynced];
    this.unsynced.clear();
    if (events.length === 0 || !this.deps.lock) return;
    try {
      await this.deps.lock.forget(events);
      this.log.info({ events: events.length }, 'seat lock state dropped after an outage; rebuilt on next use');
    } catch {
      for (const eventId of events) this.unsynced.add(eventId);
    }
  }
}
