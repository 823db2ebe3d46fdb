// Publishes committed seat changes to the seat-change log (src/realtime/seat-changes.ts). Changes of one
// event within `coalesceMs` go out as one message, and each message carries the seats' statuses and the
// event's counts as PostgreSQL has them when it is sent, so a late message can never undo a newer state.
// When the log cannot be reached (Redis away), the event is remembered and one snapshot is published when
// Redis answers again: subscribers may miss changes during an outage, never afterwards. When PostgreSQL is
// what failed (the statuses could not be read after the commit), the snapshot is retried every second.
// A change whose instance died before publishing it is still in the seat-change outbox, which a trigger
// fills in the writer's transaction: the sweeper republishes rows left there (docs/ARCHITECTURE.md,
// "Seat-change outbox").
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import type {
  Availability,
  SeatChangeBody,
  SeatChangeLog,
  SeatChangeMessage,
  SeatStatusName,
} from '../realtime/seat-changes.ts';

const RETRY_MS = 1_000;
/** Outbox rows older than this are taken to be orphaned (their instance died) and republished. */
export const OUTBOX_ORPHAN_MS = 2_000;
const OUTBOX_BATCH = 500;

interface SeatStatusRow {
  id: string;
  status: SeatStatusName;
}

export class SeatChangePublisher {
  private readonly pending = new Map<string, Set<string>>();
  /** Per event, the publish in progress: messages of one instance leave in commit order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Events whose changes could not be published: a snapshot follows when Redis is back. */
  private readonly unpublished = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly deps: {
      db: Database;
      changes: SeatChangeLog;
      redis: RedisCircuit | undefined;
      logger: Logger;
      coalesceMs: number;
      /** Told after each coalesced change is published (seat-activity.ts). */
      onPublished?: (availability: Availability) => void;
    },
  ) {
    this.log = deps.logger.child({ component: 'seat-changes' });
    deps.redis?.on('recovered', () => void this.republish());
  }

  /** Call after the commit that changed the seats. */
  changed(eventId: string, seatIds: readonly string[]): void {
    if (seatIds.length === 0) return;
    let seats = this.pending.get(eventId);
    if (!seats) {
      this.pending.set(eventId, (seats = new Set()));
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.enqueue(eventId, () => this.publishPending(eventId));
      }, this.deps.coalesceMs);
      this.timers.add(timer);
    }
    for (const id of seatIds) seats.add(id);
  }

  /** The whole map, numbered with the log's current sequence (read first: changes after it follow). */
  async snapshotMessage(eventId: string): Promise<SeatChangeMessage> {
    const sequence = await this.deps.changes.currentSequence(eventId).catch(() => 0);
    return { sequence, ...(await this.snapshotBody(eventId)) };
  }

  async availability(eventId: string): Promise<Availability> {
    const rows = await this.deps.db.$queryRaw<{ status: SeatStatusName; n: number }[]>`
      SELECT status, count(*)::int AS n FROM "Seat" WHERE "eventId" = ${eventId}::uuid GROUP BY status`;
    const count = (status: SeatStatusName): number => rows.find((r) => r.status === status)?.n ?? 0;
    const [available, held, booked] = [count('AVAILABLE'), count('HELD'), count('BOOKED')];
    return { eventId, total: available + held + booked, available, held, booked };
  }

  /** Publishes what is pending now (shutdown). */
  async flush(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const eventId of [...this.pending.keys()]) this.enqueue(eventId, () => this.publishPending(eventId));
    await Promise.allSettled([...this.chains.values()]);
  }

  private enqueue(eventId: string, work: () => Promise<void>): void {
    const next = (this.chains.get(eventId) ?? Promise.resolve()).then(work).catch((error: unknown) => {
      this.unpublished.add(eventId);
      // Debug: during an outage this is every change, and the circuit breaker has already said Redis is away.
      this.log.debug({ err: error, eventId }, 'seat change committed but not published; a snapshot follows');
      this.retryLater();
    });
    this.chains.set(eventId, next);
    void next.then(() => {
      if (this.chains.get(eventId) === next) this.chains.delete(eventId);
    });
  }

  private async publishPending(eventId: string): Promise<void> {
    const ids = this.pending.get(eventId);
    this.pending.delete(eventId);
    if (!ids?.size) return;
    const [{ seats, outbox }, availability] = await Promise.all([
      this.readChanged(eventId, [...ids]),
      this.availability(eventId),
    ]);
    await this.append({ eventId, seats, snapshot: false, availability });
    this.deps.onPublished?.(availability);
    await this.recheck(eventId, seats);
    // The statuses sent cover every outbox row they were read with; a failed delete only means a duplicate later.
    await this.deps.db.$executeRaw`DELETE FROM "SeatChangeOutbox" WHERE id = ANY(${outbox}::bigint[])`.catch(
      (error: unknown) => this.log.debug({ err: error, eventId }, 'outbox rows not cleared; republished later'),
    );
  }

  /**
   * Two instances may read, then append, in opposite orders: the later message would carry the older state.
   * So after appending, the statuses are read again; seats that moved since are published once more, and the
   * last message of every seat is then one whose sender saw PostgreSQL agree after sending it.
   */
  private async recheck(eventId: string, sent: readonly SeatStatusRow[]): Promise<void> {
    const ids = sent.map((seat) => seat.id);
    const now = await this.deps.db.$queryRaw<SeatStatusRow[]>`
      SELECT id::text, status::text FROM "Seat" WHERE id = ANY(${ids}::uuid[])`;
    const was = new Map(sent.map((seat) => [seat.id, seat.status]));
    const moved = now.filter((seat) => was.get(seat.id) !== seat.status).map((seat) => seat.id);
    if (moved.length) this.changed(eventId, moved);
  }

  /**
   * The seats' statuses and the outbox rows (of this event, with only these seats) that they cover: one
   * statement, so both come from one snapshot and every row read names a change the statuses include.
   */
  private async readChanged(eventId: string, ids: string[]): Promise<{ seats: SeatStatusRow[]; outbox: string[] }> {
    const [row] = await this.deps.db.$queryRaw<{ seats: SeatStatusRow[]; outbox: string[] }[]>`
      SELECT
        (SELECT coalesce(json_agg(json_build_object('id', id::text, 'status', status::text) ORDER BY id), '[]')
          FROM "Seat" WHERE id = ANY(${ids}::uuid[])) AS seats,
        (SELECT coalesce(array_agg(id::text), '{}') FROM "SeatChangeOutbox"
          WHERE "eventId" = ${eventId}::uuid AND "seatIds" <@ ${ids}::uuid[]) AS outbox`;
    return row ?? { seats: [], outbox: [] };
  }

  /**
   * Republishes outbox rows older than OUTBOX_ORPHAN_MS: changes whose instance died between commit and
   * publish. Claiming a row moves its time forward, so instances sweeping at once take different rows, and
   * a row whose republisher dies too comes back after the same delay. Returns how many were claimed.
   */
  async sweepOutbox(): Promise<number> {
    if (this.deps.redis?.state === 'open') return 0; // the snapshot after the outage covers them
    const rows = await this.deps.db.$queryRaw<{ eventId: string; seatIds: string[] }[]>`
      UPDATE "SeatChangeOutbox" SET "createdAt" = now() WHERE id IN (
        SELECT id FROM "SeatChangeOutbox"
        WHERE "createdAt" < now() - ${OUTBOX_ORPHAN_MS}::int * interval '1 millisecond'
        ORDER BY id LIMIT ${OUTBOX_BATCH}::int FOR UPDATE SKIP LOCKED)
      RETURNING "eventId"::text, "seatIds"::text[]`;
    for (const row of rows) this.changed(row.eventId, row.seatIds);
    return rows.length;
  }

  private async append(body: SeatChangeBody): Promise<void> {
    if (this.deps.redis?.state === 'open') throw new Error('redis unavailable');
    await this.deps.changes.append(body);
  }

  private async snapshotBody(eventId: string): Promise<SeatChangeBody> {
    const [seats, availability] = await Promise.all([
      this.deps.db.$queryRaw<SeatStatusRow[]>`
        SELECT id::text, status::text FROM "Seat" WHERE "eventId" = ${eventId}::uuid
        ORDER BY section, row, number`,
      this.availability(eventId),
    ]);
    return { eventId, seats, snapshot: true, availability };
  }

  /** With Redis up (or none), the failure was not Redis's: no 'closed' event will come, so try again later. */
  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.deps.redis?.state !== 'open') void this.republish();
    }, RETRY_MS);
    this.retryTimer.unref();
  }

  private async republish(): Promise<void> {
    const events = [...this.unpublished];
    this.unpublished.clear();
    for (const eventId of events) this.enqueue(eventId, async () => this.append(await this.snapshotBody(eventId)));
  }
}
