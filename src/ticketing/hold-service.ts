// Seat holds. With Redis, its Lua lock decides (seat-lock.ts) and the decision is mirrored to PostgreSQL in
// the same request; when PostgreSQL disagrees, PostgreSQL wins, Redis is undone and told to rebuild. While
// Redis is away, PostgreSQL alone decides with the same rules (one transaction, a per-user-and-event lock,
// conditional updates). A customer has at most one active hold per event: holding more seats adds them to
// it and extends it (never past its maximum lifetime), so the per-user limit is the size of that hold.
import { randomUUID } from 'node:crypto';
import type { TicketingConfig } from '../config.ts';
import type { Database } from '../db/prisma.ts';
import type { Event, HoldStatus } from '../generated/prisma/client.ts';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../infra/errors.ts';
import { parseUuid } from '../graphql/arguments.ts';
import {
  HoldExpiredError,
  HoldLimitExceededError,
  NotOnSaleError,
  SeatsUnavailableError,
  type RefusedSeat,
} from './errors.ts';
import {
  claimRefusals,
  claimSeats,
  dropEmptyHold,
  endHold,
  expireHolds,
  lockActiveHold,
  mirrorHold,
  TX_OPTIONS,
  upsertHold,
  type Tx,
} from './hold-queries.ts';
import { RedisUnavailableError } from '../redis/circuit-breaker.ts';
import { retryingConflicts, typedHoldFailure } from './hold-failures.ts';
import type { SeatLock } from './seat-lock.ts';
import type { SeatSync } from './seat-sync.ts';

/** What a Hold resolves from. */
export interface HoldView {
  id: string;
  eventId: string;
  userId: string;
  status: HoldStatus;
  expiresAt: Date;
}

/** Thrown inside a mirror transaction to roll it back; carries why. */
class Refused extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

const SWEEP_BATCH = 500;
/** Primes of an event's lock state one hold tries before leaving the decision to PostgreSQL. */
const PRIME_ATTEMPTS = 3;

/**
 * Runs work for one key at a time, in arrival order. Without Redis, an instance sends one hold transaction
 * per event to PostgreSQL at a time: a flash sale's contenders then wait here, in memory, instead of on
 * row locks while each holds one of the pool's few connections (which starved the pool under load).
 */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

export function checkOnSale(event: Event, now = new Date()): void {
  if (event.status !== 'ON_SALE') throw new NotOnSaleError(event.status);
  if (now < event.salesOpenAt || now >= event.salesCloseAt) throw new NotOnSaleError('outside the sales window');
}

export class HoldService {
  private readonly postgresQueue = new KeyedQueue();

  constructor(private readonly deps: { db: Database; sweepDb: Database; sync: SeatSync; config: TicketingConfig }) {}

  /** Validates and de-duplicates the requested seat ids. */
  parseSeatIds(seatIds: readonly string[]): string[] {
    const ids = [...new Set(seatIds.map((id) => parseUuid(id, 'seatIds')))];
    if (ids.length === 0) throw new BadUserInputError('seatIds must name at least one seat', 'seatIds');
    const max = this.deps.config.maxSeatsPerUser;
    if (ids.length > max) throw new HoldLimitExceededError(max, ids.length);
    return ids;
  }

  /**
   * Holds every seat for the user, or none (seats of another event, or none, are NOT_FOUND). Fails only with
   * a typed error: PostgreSQL busy or away is SERVICE_UNAVAILABLE (see hold-failures.ts).
   */
  async hold(userId: string, event: Event, seatIds: string[]): Promise<HoldView> {
    checkOnSale(event);
    try {
      return await this.holdChecked(userId, event, seatIds);
    } catch (error) {
      throw typedHoldFailure(error);
    }
  }

  private async holdChecked(userId: string, event: Event, seatIds: string[]): Promise<HoldView> {
    const lock = this.deps.sync.lock;
    let view: HoldView | undefined;
    let added: string[] = [];
    if (lock) {
      const outcome = await this.holdWithRedis(lock, userId, event, seatIds).catch((error: unknown) => {
        if (error instanceof RedisUnavailableError) return undefined;
        throw error;
      });
      if (outcome) ({ view, added } = outcome);
    }
    if (!view) {
      // Redis is away (or failed mid-way): PostgreSQL decides alone; Redis is rebuilt once it is back.
      ({ view, added } = await this.postgresQueue.run(event.id, () => this.holdWithPostgres(userId, event, seatIds)));
      await this.deps.sync.inRedis(event.id, (l) => l.forget([event.id]));
    }
    await this.deps.sync.committed(event.id, added);
    return view;
  }

  private async holdWithRedis(
    lock: SeatLock,
    userId: string,
    event: Event,
    seatIds: string[],
  ): Promise<{ view: HoldView; added: string[] }> {
    const { config } = this.deps;
    const request = {
      userId,
      newHoldId: randomUUID(),
      seatIds,
      ttlMs: config.holdTtlSeconds * 1000,
      maxSeats: config.maxSeatsPerUser,
      maxLifetimeMs: config.holdMaxLifetimeSeconds * 1000,
    };
    let decision = await lock.hold(event.id, request);
    // Another request (or instance) may drop the state again between priming and holding (it does so
    // whenever Redis and PostgreSQL disagree): after a few tries, PostgreSQL decides alone.
    for (let attempt = 1; decision.kind === 'unprimed'; attempt += 1) {
      if (attempt > PRIME_ATTEMPTS) throw new RedisUnavailableError(new Error('seat lock state kept being dropped'));
      await this.deps.sync.prime(lock, event.id);
      decision = await lock.hold(event.id, request);
    }
    if (decision.kind === 'refused') throw new SeatsUnavailableError(decision.seats);
    if (decision.kind === 'limit') throw new HoldLimitExceededError(config.maxSeatsPerUser, decision.total);
    const { holdId, added } = decision;
    try {
      const view = await this.mirror(userId, event.id, decision);
      return { view, added };
    } catch (error) {
      // PostgreSQL refused what Redis allowed (Redis lost data, or missed a change): undo it in Redis and
      // have the event's state rebuilt from PostgreSQL on the next hold.
      await this.deps.sync.inRedis(event.id, async (l) => {
        await l.revert(event.id, holdId, added);
        await l.forget([event.id]);
      });
      throw error instanceof Refused ? error.error : error;
    }
  }

  private async mirror(
    userId: string,
    eventId: string,
    decision: { holdId: string; expiresAt: Date; createdAt: Date; isNew: boolean; added: string[] },
  ): Promise<HoldView> {
    const { holdId, expiresAt, createdAt, added } = decision;
    const { db, config } = this.deps;
    const hold = { id: holdId, eventId, userId, expiresAt, createdAt };
    const mirrored = await retryingConflicts(() => mirrorHold(db, hold, added, config.holdMaxLifetimeSeconds * 1000));
    const { active, claimed } = mirrored;
    if (!active || !mirrored.expiresAt) throw new Refused(new HoldExpiredError());
    if (claimed < added.length) {
      if (decision.isNew) await dropEmptyHold(db, holdId);
      const refused = await claimRefusals(db, eventId, added);
      throw new Refused(
        new SeatsUnavailableError(refused.length ? refused : added.map((id) => ({ id, reason: 'HELD' }))),
      );
    }
    // PostgreSQL's expiry is the truth (it caps a hold Redis knew without its createdAt alike).
    return { id: holdId, eventId, userId, status: 'ACTIVE', expiresAt: mirrored.expiresAt };
  }

  private async holdWithPostgres(
    userId: string,
    event: Event,
    seatIds: string[],
  ): Promise<{ view: HoldView; added: string[] }> {
    try {
      return await retryingConflicts(() => this.holdInTransaction(userId, event, seatIds));
    } catch (error) {
      throw error instanceof Refused ? error.error : error;
    }
  }

  private holdInTransaction(
    userId: string,
    event: Event,
    seatIds: string[],
  ): Promise<{ view: HoldView; added: string[] }> {
    const { config } = this.deps;
    return this.deps.db.$transaction(async (tx) => {
      const active = await lockActiveHold(tx, event.id, userId);
      const holdId = active?.id ?? randomUUID();
      const already = new Set(active?.seatIds ?? []);
      const added = seatIds.filter((id) => !already.has(id));
      const total = already.size + added.length;
      if (total > config.maxSeatsPerUser) throw new Refused(new HoldLimitExceededError(config.maxSeatsPerUser, total));
      const ttlSeconds = Math.min(config.holdTtlSeconds, config.holdMaxLifetimeSeconds);
      const wanted = new Date(Date.now() + ttlSeconds * 1000);
      const hold = { id: holdId, eventId: event.id, userId, expiresAt: wanted };
      const expiresAt = await upsertHold(tx, hold, config.holdMaxLifetimeSeconds * 1000);
      if (!expiresAt) throw new Refused(new HoldExpiredError());
      await this.claimOrRefuse(tx, event.id, holdId, added);
      const view: HoldView = { id: holdId, eventId: event.id, userId, status: 'ACTIVE', expiresAt };
      return { view, added };
    }, TX_OPTIONS);
  }

  private async claimOrRefuse(tx: Tx, eventId: string, holdId: string, seatIds: string[]): Promise<void> {
    const refused: RefusedSeat[] = await claimSeats(tx, eventId, holdId, seatIds);
    if (refused.length) throw new Refused(new SeatsUnavailableError(refused));
  }

  /** Gives an active hold's seats back; false when it was no longer active. Owner only. */
  async release(userId: string, holdIdArg: string): Promise<boolean> {
    const holdId = parseUuid(holdIdArg, 'holdId');
    const hold = await this.deps.db.hold.findUnique({ where: { id: holdId }, select: { userId: true, eventId: true } });
    if (!hold) throw new NotFoundError('hold');
    if (hold.userId !== userId) throw new ForbiddenError('only the customer who made a hold may release it');
    const ended = await retryingConflicts(() =>
      this.deps.db.$transaction((tx) => endHold(tx, holdId, 'RELEASED'), TX_OPTIONS),
    );
    if (!ended) return false;
    await this.afterEnded(holdId, hold.eventId, ended.seatIds);
    return true;
  }

  /** The user's active hold on one event (one at most: holding again joins it), or null. */
  async activeOn(userId: string, eventId: string): Promise<HoldView | null> {
    return this.deps.db.hold.findFirst({
      where: { userId, eventId, status: 'ACTIVE', expiresAt: { gt: new Date() } },
      orderBy: { createdAt: 'desc' },
      select: { id: true, eventId: true, userId: true, status: true, expiresAt: true },
    });
  }

  /** Expires holds past their time (every instance runs this; see hold-sweeper.ts). Returns how many. */
  async sweep(): Promise<number> {
    const expired = await expireHolds(this.deps.sweepDb, SWEEP_BATCH);
    for (const hold of expired) await this.afterEnded(hold.holdId, hold.eventId, hold.seatIds);
    return expired.length;
  }

  private async afterEnded(holdId: string, eventId: string, seatIds: string[]): Promise<void> {
    await this.deps.sync.inRedis(eventId, (lock) => lock.settle(eventId, holdId, seatIds, false));
    await this.deps.sync.committed(eventId, seatIds);
  }
}
