// Sessions: opaque random bearer tokens. Redis holds the live entry (sliding TTL) so every instance sees
// a sign-out at once; PostgreSQL holds a write-through copy so stopping Redis logs nobody out
// (PostgreSQL is the truth: docs/ARCHITECTURE.md). Only a SHA-256 of the token is stored anywhere: a
// leaked database or Redis dump holds no usable token.
//
// Decisions:
// - Validation reads Redis first (one GET + PEXPIRE), then PostgreSQL on a miss or while Redis is down,
//   and puts what PostgreSQL says back into Redis.
// - The PostgreSQL expiry slides too, but is written at most once a minute per session, not per request.
// - Revocation writes PostgreSQL first, then deletes the Redis entry through the entity cache's
//   invalidation path, which queues and replays deletes that cannot reach Redis.
// - Nothing here is kept in L1: a revoked session must stop working on every instance immediately.
import { createHash, randomBytes } from 'node:crypto';
import type { EntityCache } from '../cache/entity-cache.ts';
import { decode, encode } from '../cache/codec.ts';
import type { Database } from '../db/prisma.ts';
import type { MemberTier, Role } from '../generated/prisma/client.ts';
import { coarseNetwork } from './client-network.ts';
import type { Viewer } from './viewer.ts';
import { execPipeline, type RedisCircuit } from '../redis/circuit-breaker.ts';
import type { Redis } from '../redis/connection.ts';
import { isDatabaseUnavailable } from '../infra/errors.ts';

const TOKEN_BYTES = 32;
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;
const PG_TOUCH_INTERVAL_MS = 60_000;

interface SessionEntry {
  sessionId: string;
  userId: string;
  role: Role;
  organizationId: string | null;
  /** The member tier prices are shown at; absent in entries written before sessions carried it. */
  tier?: MemberTier;
  /** Last time the PostgreSQL copy's expiry was pushed forward. */
  touchedAt: number;
}

export interface SessionServiceDeps {
  db: Database;
  redis: RedisCircuit | undefined;
  cache: EntityCache;
  prefix: string;
  ttlSeconds: number;
  /** Live sessions per user; beyond it the oldest end. Unset: no cap. */
  maxPerUser?: number;
  /**
   * Told after sessions ended or a user's role changed ('all' of the user's sessions), once PostgreSQL
   * has it: open WebSocket connections of those sessions are closed on every instance (app.ts wires it).
   */
  onEnded?: (ended: SessionsEnded) => void;
}

/** Sessions that ended (or whose user changed role), for whoever holds connections open on them. */
export interface SessionsEnded {
  userId: string;
  sessionIds: string[] | 'all';
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  private key(tokenHash: string): string {
    return `${this.deps.prefix}:session:${tokenHash}`;
  }

  /**
   * Creates a session for a user who just proved who they are; returns the token (shown once). Beyond
   * the per-user cap, the oldest live sessions end.
   */
  async create(
    user: { id: string; role: Role; organizationId: string | null; tier: MemberTier },
    client: { userAgent?: string | undefined; ip?: string | undefined } = {},
  ): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const tokenHash = hashToken(token);
    const expiresAt = new Date(Date.now() + this.deps.ttlSeconds * 1000);
    const network = coarseNetwork(client.ip);
    const session = await this.deps.db.session.create({
      data: {
        tokenHash,
        userId: user.id,
        expiresAt,
        ...(client.userAgent && { userAgent: client.userAgent.slice(0, 255) }),
        ...(network && { network }),
      },
    });
    await this.enforceCap(user.id);
    await this.writeRedis(tokenHash, {
      sessionId: session.id,
      userId: user.id,
      role: user.role,
      organizationId: user.organizationId,
      tier: user.tier,
      touchedAt: Date.now(),
    });
    return { token, expiresAt };
  }

  /** The viewer a bearer token stands for, or null for an unknown, expired or revoked token. */
  async authenticate(token: string): Promise<Viewer | null> {
    if (!TOKEN_FORMAT.test(token)) return null;
    const tokenHash = hashToken(token);
    let entry = (await this.readRedis(tokenHash)) ?? (await this.readDatabase(tokenHash));
    const stale = entry && (Date.now() - entry.touchedAt > PG_TOUCH_INTERVAL_MS || entry.tier === undefined);
    if (entry && stale) entry = await this.refresh(tokenHash, entry);
    if (!entry) return null;
    const { sessionId, userId, role, organizationId } = entry;
    return { sessionId, userId, role, organizationId, tier: entry.tier ?? 'REGULAR' };
  }

  /**
   * Once a minute per session: slides the PostgreSQL expiry and re-reads the user's role, organization and
   * member tier, so a revocation that never reached Redis, a demotion or a tier change made in PostgreSQL
   * takes effect within a minute (refreshAllOf: at once). If PostgreSQL
   * cannot be reached, the Redis entry keeps the session alive (that is what the copy is for).
   */
  private async refresh(tokenHash: string, entry: SessionEntry): Promise<SessionEntry | undefined> {
    try {
      const now = new Date();
      const { count } = await this.deps.db.session.updateMany({
        where: { id: entry.sessionId, revokedAt: null, expiresAt: { gt: now } },
        data: { lastSeenAt: now, expiresAt: new Date(now.getTime() + this.deps.ttlSeconds * 1000) },
      });
      const user =
        count === 1
          ? await this.deps.db.user.findUnique({
              where: { id: entry.userId },
              select: { role: true, organizationId: true, tier: true },
            })
          : null;
      if (!user) {
        await this.deps.cache.invalidate([this.key(tokenHash)], { broadcast: false });
        return undefined;
      }
      const refreshed: SessionEntry = {
        ...entry,
        role: user.role,
        organizationId: user.organizationId,
        tier: user.tier,
        touchedAt: now.getTime(),
      };
      await this.writeRedis(tokenHash, refreshed);
      return refreshed;
    } catch (error) {
      if (isDatabaseUnavailable(error)) return entry;
      throw error;
    }
  }

  async revoke(sessionId: string, userId: string): Promise<boolean> {
    const session = await this.deps.db.session.findFirst({ where: { id: sessionId, userId, revokedAt: null } });
    if (!session) return false;
    await this.deps.db.session.update({ where: { id: session.id }, data: { revokedAt: new Date() } });
    await this.deps.cache.invalidate([this.key(session.tokenHash)], { broadcast: false });
    this.deps.onEnded?.({ userId, sessionIds: [session.id] });
    return true;
  }

  /**
   * Ends every live session of the user (but `exceptSessionId`): PostgreSQL first, then the Redis entries,
   * so every instance refuses the tokens from the next request on. Returns how many ended.
   */
  async revokeAllOf(userId: string, exceptSessionId?: string): Promise<number> {
    const live = await this.liveOf(userId, exceptSessionId);
    if (!live.length) return 0;
    const { count } = await this.deps.db.session.updateMany({
      where: { id: { in: live.map((s) => s.id) }, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    await this.forget(live);
    this.deps.onEnded?.({ userId, sessionIds: live.map((s) => s.id) });
    return count;
  }

  /**
   * Drops the user's cached session entries, so the next request reads the session and the user's current
   * role and organization from PostgreSQL (after a role change, on every instance at once).
   */
  async refreshAllOf(userId: string): Promise<void> {
    await this.forget(await this.liveOf(userId));
    this.deps.onEnded?.({ userId, sessionIds: 'all' });
  }

  /** Ends the oldest live sessions beyond the cap (newest first, ties by id, so every caller agrees). */
  private async enforceCap(userId: string): Promise<void> {
    const max = this.deps.maxPerUser;
    if (max === undefined) return;
    const excess = await this.deps.db.session.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: new Date() } },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      skip: max,
      select: { id: true, tokenHash: true },
    });
    if (!excess.length) return;
    await this.deps.db.session.updateMany({
      where: { id: { in: excess.map((s) => s.id) }, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    await this.forget(excess);
    this.deps.onEnded?.({ userId, sessionIds: excess.map((s) => s.id) });
  }

  private liveOf(userId: string, exceptSessionId?: string) {
    return this.deps.db.session.findMany({
      where: { userId, revokedAt: null, ...(exceptSessionId && { id: { not: exceptSessionId } }) },
      select: { id: true, tokenHash: true },
    });
  }

  private async forget(sessions: { tokenHash: string }[]): Promise<void> {
    if (sessions.length)
      await this.deps.cache.invalidate(
        sessions.map((s) => this.key(s.tokenHash)),
        { broadcast: false },
      );
  }

  async listOf(userId: string) {
    return this.deps.db.session.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: new Date() } },
      orderBy: { createdAt: 'desc' },
      select: { id: true, createdAt: true, lastSeenAt: true, expiresAt: true, userAgent: true, network: true },
    });
  }

  private async readRedis(tokenHash: string): Promise<SessionEntry | undefined> {
    const redis = this.deps.redis;
    if (!redis) return undefined;
    const key = this.key(tokenHash);
    const ttlMs = this.deps.ttlSeconds * 1000;
    const read = (r: Redis) => execPipeline(r, (multi) => multi.get(key).pexpire(key, ttlMs), true);
    const [text] = await redis.attempt(read, 'session-get', () => []);
    return typeof text === 'string' ? decode<SessionEntry>(text) : undefined;
  }

  private async readDatabase(tokenHash: string): Promise<SessionEntry | undefined> {
    const session = await this.deps.db.session.findFirst({
      where: { tokenHash, revokedAt: null, expiresAt: { gt: new Date() } },
      include: { user: { select: { role: true, organizationId: true, tier: true } } },
    });
    if (!session) return undefined;
    const entry: SessionEntry = {
      sessionId: session.id,
      userId: session.userId,
      role: session.user.role,
      organizationId: session.user.organizationId,
      tier: session.user.tier,
      touchedAt: session.lastSeenAt.getTime(),
    };
    await this.writeRedis(tokenHash, entry);
    return entry;
  }

  private async writeRedis(tokenHash: string, entry: SessionEntry): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    const write = (r: Redis) => r.set(this.key(tokenHash), encode(entry), 'PX', this.deps.ttlSeconds * 1000);
    await redis.attempt(write, 'session-set', () => null);
  }
}
