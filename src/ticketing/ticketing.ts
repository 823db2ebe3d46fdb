// Live ticketing's parts, created once by the composition root (src/server/app.ts) and reached by resolvers
// through context.services.ticketing.
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { TicketingConfig } from '../config.ts';
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import { SeatChangeIterator } from '../realtime/seat-change-iterator.ts';
import { createSeatChangeLog, type SeatChangeMessage } from '../realtime/seat-changes.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { BookingService } from './booking-service.ts';
import { HoldService } from './hold-service.ts';
import { HoldSweeper } from './hold-sweeper.ts';
import { SeatActivity } from './seat-activity.ts';
import { SeatChangePublisher } from './seat-change-publisher.ts';
import { SeatLock } from './seat-lock.ts';
import { SeatSync } from './seat-sync.ts';

export interface Ticketing {
  config: TicketingConfig;
  holds: HoldService;
  bookings: BookingService;
  publisher: SeatChangePublisher;
  /** seatsChanged: replay after `afterSequence` (or a snapshot), then live changes. */
  seatChanges(eventId: string, afterSequence: number | null): AsyncIterableIterator<SeatChangeMessage>;
  start(): void;
  stop(): Promise<void>;
}

export function createTicketing(
  config: TicketingConfig,
  deps: {
    db: Database;
    /** For the sweeper and the publisher: work no request waits for. */
    backgroundDb: Database;
    redis: RedisCircuit | undefined;
    bus: EventBus;
    cache: EntityCache;
    keys: KeyBuilder;
    prefix: string;
    logger: Logger;
  },
): Ticketing {
  const { db, backgroundDb, redis, bus, cache, keys, prefix, logger } = deps;
  const log = createSeatChangeLog({ redis, bus, prefix }, config.changeLogLength);
  const activity = new SeatActivity({ db: backgroundDb, bus, logger });
  const publisher = new SeatChangePublisher({
    db: backgroundDb,
    changes: log,
    redis,
    logger,
    coalesceMs: config.coalesceMs,
    onPublished: (availability) => activity.published(availability),
  });
  const lock = redis ? new SeatLock(redis, prefix) : undefined;
  const sync = new SeatSync({ db, lock, redis, publisher, cache, keys, logger });
  const holds = new HoldService({ db, sweepDb: backgroundDb, sync, config });
  const sweeper = new HoldSweeper(
    holds,
    publisher,
    config.sweepIntervalMs,
    logger.child({ component: 'hold-sweeper' }),
  );
  const source = { bus, log, snapshot: (eventId: string) => publisher.snapshotMessage(eventId) };
  return {
    config,
    holds,
    bookings: new BookingService({ db, sync, bus }),
    publisher,
    seatChanges: (eventId, afterSequence) => new SeatChangeIterator(source, eventId, afterSequence),
    start: () => sweeper.start(),
    async stop() {
      await sweeper.stop();
      await publisher.flush();
      await activity.settled();
    },
  };
}
