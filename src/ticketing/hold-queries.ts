// The PostgreSQL side of holds: each function runs inside the caller's transaction. A seat is claimed with
// a conditional UPDATE (AVAILABLE, already this hold's, or left behind by an expired hold) and RETURNING
// says which seats were really claimed, so two holders of one seat are impossible whatever Redis said.
import { Prisma } from '../generated/prisma/client.ts';
import type { RefusedSeat } from './errors.ts';

export type Tx = Prisma.TransactionClient;

/** Long enough for a flash sale's queue on the pool; a hold transaction itself takes milliseconds. */
export const TX_OPTIONS = { maxWait: 15_000, timeout: 15_000 } as const;

/**
 * The expiry an extension writes: the later of the two, but never past createdAt + the hold's maximum
 * lifetime, so re-holding cannot keep seats off sale forever (docs/ARCHITECTURE.md, "Seat holds: failures
 * and lifetime").
 */
function extendedExpiry(maxLifetimeMs: number): Prisma.Sql {
  return Prisma.sql`LEAST(GREATEST("Hold"."expiresAt", EXCLUDED."expiresAt"),
    "Hold"."createdAt" + ${maxLifetimeMs} * interval '1 millisecond')`;
}

/**
 * Creates the hold, or extends it while it is ACTIVE (up to its maximum lifetime). Returns the hold's expiry,
 * or null: the hold exists but is no longer active (expired, released or confirmed meanwhile).
 */
export async function upsertHold(
  tx: Tx,
  hold: { id: string; eventId: string; userId: string; expiresAt: Date },
  maxLifetimeMs: number,
): Promise<Date | null> {
  const rows = await tx.$queryRaw<{ expiresAt: Date }[]>`
    INSERT INTO "Hold" (id, "eventId", "userId", status, "expiresAt")
    VALUES (${hold.id}::uuid, ${hold.eventId}::uuid, ${hold.userId}::uuid, 'ACTIVE', ${hold.expiresAt})
    ON CONFLICT (id) DO UPDATE SET "expiresAt" = ${extendedExpiry(maxLifetimeMs)}
    WHERE "Hold".status = 'ACTIVE'
    RETURNING "expiresAt"`;
  return rows[0]?.expiresAt ?? null;
}

/**
 * Claims seats for a hold; returns the refusals (empty: every seat was claimed). The caller rolls back
 * on refusals, so the claim is all or nothing.
 */
export async function claimSeats(
  tx: Tx,
  eventId: string,
  holdId: string,
  seatIds: readonly string[],
): Promise<RefusedSeat[]> {
  if (seatIds.length === 0) return [];
  const claimed = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "Seat" s SET status = 'HELD', "holdId" = ${holdId}::uuid, "updatedAt" = now()
    WHERE s."eventId" = ${eventId}::uuid AND s.id = ANY(${seatIds}::uuid[])
      AND (s.status = 'AVAILABLE' OR s."holdId" = ${holdId}::uuid
        OR EXISTS (SELECT 1 FROM "Hold" h WHERE h.id = s."holdId" AND h."expiresAt" <= now()))
    RETURNING s.id::text`;
  if (claimed.length === seatIds.length) return [];
  const got = new Set(claimed.map((r) => r.id));
  return claimRefusals(
    tx,
    eventId,
    seatIds.filter((id) => !got.has(id)),
  );
}

/**
 * The Redis path's mirror, in one statement (one round trip, atomic without a transaction): creates (with
 * Redis's createdAt, so both cap the lifetime alike) or extends the hold and claims the seats only if every
 * one of them can be claimed. Returns whether the hold is active, its expiry as stored, and how many seats
 * were claimed; fewer than asked means none were (see claimRefusals).
 */
export async function mirrorHold(
  db: Tx,
  hold: { id: string; eventId: string; userId: string; expiresAt: Date; createdAt: Date },
  seatIds: readonly string[],
  maxLifetimeMs: number,
): Promise<{ active: boolean; claimed: number; expiresAt: Date | null }> {
  const rows = await db.$queryRaw<{ active: number; claimed: number; expiresAt: Date | null }[]>`
    WITH hold AS (
      INSERT INTO "Hold" (id, "eventId", "userId", status, "expiresAt", "createdAt")
      VALUES (${hold.id}::uuid, ${hold.eventId}::uuid, ${hold.userId}::uuid, 'ACTIVE', ${hold.expiresAt},
        ${hold.createdAt})
      ON CONFLICT (id) DO UPDATE SET "expiresAt" = ${extendedExpiry(maxLifetimeMs)}
      WHERE "Hold".status = 'ACTIVE'
      RETURNING id, "expiresAt"
    ), target AS (
      SELECT s.id FROM "Seat" s
      WHERE s."eventId" = ${hold.eventId}::uuid AND s.id = ANY(${seatIds}::uuid[])
        AND (s.status = 'AVAILABLE' OR s."holdId" = ${hold.id}::uuid
          OR EXISTS (SELECT 1 FROM "Hold" h WHERE h.id = s."holdId" AND h."expiresAt" <= now()))
      FOR UPDATE OF s
    ), claim AS (
      UPDATE "Seat" s SET status = 'HELD', "holdId" = ${hold.id}::uuid, "updatedAt" = now()
      WHERE s.id IN (SELECT id FROM target) AND (SELECT count(*) FROM target) = ${seatIds.length}
        AND EXISTS (SELECT 1 FROM hold)
      RETURNING s.id
    )
    SELECT (SELECT count(*) FROM hold)::int AS active, (SELECT count(*) FROM claim)::int AS claimed,
      (SELECT "expiresAt" FROM hold) AS "expiresAt"`;
  const row = rows[0]!;
  return { active: row.active === 1, claimed: row.claimed, expiresAt: row.expiresAt };
}

/** Why seats could not be claimed: BOOKED, HELD (by someone else) or NOT_FOUND (not a seat of the event). */
export async function claimRefusals(db: Tx, eventId: string, seatIds: readonly string[]): Promise<RefusedSeat[]> {
  const rows = await db.$queryRaw<{ id: string; status: string }[]>`
    SELECT id::text, status::text FROM "Seat" WHERE "eventId" = ${eventId}::uuid AND id = ANY(${seatIds}::uuid[])`;
  const status = new Map(rows.map((r) => [r.id, r.status]));
  return seatIds
    .filter((id) => status.get(id) !== 'AVAILABLE')
    .map((id) => ({
      id,
      reason: status.get(id) === 'BOOKED' ? 'BOOKED' : status.has(id) ? 'HELD' : 'NOT_FOUND',
    }));
}

/** A hold that a refused mirror created but never gave a seat: not left ACTIVE. */
export async function dropEmptyHold(db: Tx, holdId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "Hold" SET status = 'RELEASED' WHERE id = ${holdId}::uuid AND status = 'ACTIVE'
      AND NOT EXISTS (SELECT 1 FROM "Seat" WHERE "holdId" = ${holdId}::uuid)`;
}

/** The PostgreSQL-only path: the caller's active hold on the event, under a per-user-and-event lock. */
export async function lockActiveHold(
  tx: Tx,
  eventId: string,
  userId: string,
): Promise<{ id: string; seatIds: string[] } | null> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`hold:${eventId}:${userId}`}, 0))`;
  const rows = await tx.$queryRaw<{ id: string; seats: string[] }[]>`
    SELECT h.id::text, coalesce(array_agg(s.id::text) FILTER (WHERE s.id IS NOT NULL), '{}') AS seats
    FROM "Hold" h LEFT JOIN "Seat" s ON s."holdId" = h.id
    WHERE h."eventId" = ${eventId}::uuid AND h."userId" = ${userId}::uuid
      AND h.status = 'ACTIVE' AND h."expiresAt" > now()
    GROUP BY h.id ORDER BY max(h."expiresAt") DESC LIMIT 1`;
  const row = rows[0];
  return row ? { id: row.id, seatIds: row.seats } : null;
}

/** Ends an active hold (RELEASED or EXPIRED) and frees its seats; never touches a BOOKED seat. */
export async function endHold(
  tx: Tx,
  holdId: string,
  status: 'RELEASED' | 'EXPIRED',
): Promise<{ eventId: string; userId: string; seatIds: string[] } | null> {
  const ended = await tx.$queryRaw<{ eventId: string; userId: string }[]>`
    UPDATE "Hold" SET status = ${status}::"HoldStatus" WHERE id = ${holdId}::uuid AND status = 'ACTIVE'
    RETURNING "eventId"::text, "userId"::text`;
  const hold = ended[0];
  if (!hold) return null;
  const freed = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "Seat" SET status = 'AVAILABLE', "holdId" = NULL, "updatedAt" = now()
    WHERE "holdId" = ${holdId}::uuid AND status = 'HELD' RETURNING id::text`;
  return { ...hold, seatIds: freed.map((r) => r.id) };
}

export interface ExpiredHold {
  holdId: string;
  eventId: string;
  seatIds: string[];
}

/**
 * Expires up to `limit` holds past their time, in one statement. SKIP LOCKED: a hold being confirmed
 * (locked by confirmBooking) is left alone, and instances sweeping at once never wait on each other.
 */
export async function expireHolds(db: Tx, limit: number): Promise<ExpiredHold[]> {
  return db.$queryRaw<ExpiredHold[]>`
    WITH expired AS (
      UPDATE "Hold" SET status = 'EXPIRED'
      WHERE id IN (
        SELECT id FROM "Hold" WHERE status = 'ACTIVE' AND "expiresAt" <= now()
        ORDER BY "expiresAt" LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id, "eventId"
    ), freed AS (
      UPDATE "Seat" s SET status = 'AVAILABLE', "holdId" = NULL, "updatedAt" = now()
      FROM expired e WHERE s."holdId" = e.id AND s.status = 'HELD'
      RETURNING s.id, e.id AS "holdId"
    )
    SELECT e.id::text AS "holdId", e."eventId"::text AS "eventId",
      coalesce(array_agg(f.id::text) FILTER (WHERE f.id IS NOT NULL), '{}') AS "seatIds"
    FROM expired e LEFT JOIN freed f ON f."holdId" = e.id GROUP BY e.id, e."eventId"`;
}

/** What Redis needs to decide holds for an event as PostgreSQL has it: every seat (see seat-lock.ts, prime). */
export async function lockStateOf(
  db: Tx,
  eventId: string,
): Promise<
  {
    seatId: string;
    status: string;
    holdId: string | null;
    userId: string | null;
    expiresAt: Date | null;
    createdAt: Date | null;
  }[]
> {
  return db.$queryRaw`
    SELECT s.id::text AS "seatId", s.status::text AS status, s."holdId"::text AS "holdId",
      h."userId"::text AS "userId", h."expiresAt" AS "expiresAt", h."createdAt" AS "createdAt"
    FROM "Seat" s LEFT JOIN "Hold" h ON h.id = s."holdId" AND h.status = 'ACTIVE'
    WHERE s."eventId" = ${eventId}::uuid`;
}
