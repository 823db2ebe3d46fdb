// The change feed: one PostgreSQL connection LISTENing on cachegate_changes, which the triggers of
// the change_notify migration notify for every changed row of a cached table. A notification after a quiet
// spell is handed over at once (a plain write must reach every instance quickly); those arriving within
// BATCH_MS of the last hand-over wait for the next one, together, so a batch job's thousands of rows cost
// a few batches of invalidations, not one per row. Rows the gateway wrote itself are skipped: its writes
// invalidate already. The connection is re-opened after a failure, with a backoff.
//
// Where the bus is shared (Redis, or the primary's relay between workers), one instance leads: the one
// holding a PostgreSQL advisory lock on its LISTEN connection. Only the leader turns notifications into
// invalidations and pushes, which the bus carries to every instance; otherwise N instances would publish
// N copies. The others try the lock every second, so when the leader dies (its session ends, and the lock
// with it) one of them takes over. Followers keep the last few seconds of notifications and the new
// leader replays them, so a change made while the old one was dying is not lost: invalidating twice is
// harmless. See docs/ARCHITECTURE.md, "Change feed leader".
import pg from 'pg';
import type { Logger } from '../infra/logger.ts';
import { GATEWAY_APPLICATION_NAME } from './prisma.ts';

export const CHANGES_CHANNEL = 'cachegate_changes';
const BATCH_MS = 50;
const RECONNECT_MS = [250, 500, 1_000, 2_000, 5_000];
const LEADER_POLL_MS = 1_000;
/** How far back a follower that takes over replays: longer than a dead leader's session takes to end. */
const REPLAY_MS = 5_000;

/** The keys of one changed row: the new ones (insert, update) and the old ones (update, delete). */
export interface RowChange {
  table: string;
  /** The writer's application_name. */
  app?: string;
  new?: Record<string, string>;
  old?: Record<string, string>;
}

export interface ChangeFeed {
  stop(): Promise<void>;
}

export async function startChangeFeed(options: {
  databaseUrl: string;
  logger: Logger;
  onChanges(changes: RowChange[]): Promise<void>;
  /** Set where the bus is shared: the instances of one deployment (one name) elect a leader. */
  leaderLock?: string;
}): Promise<ChangeFeed> {
  const log = options.logger.child({ component: 'change-feed' });
  let client: pg.Client | undefined;
  let stopped = false;
  let failures = 0;
  let pending: RowChange[] = [];
  let timer: NodeJS.Timeout | undefined;
  let lastFlushAt = Number.NEGATIVE_INFINITY;
  let leading = options.leaderLock === undefined;
  /** A follower's recent notifications, for the replay when it takes over. */
  let recent: { at: number; change: RowChange }[] = [];
  let poll: NodeJS.Timeout | undefined;

  const flush = (): void => {
    timer = undefined;
    lastFlushAt = performance.now();
    const changes = pending;
    pending = [];
    options
      .onChanges(changes)
      .catch((error: unknown) => log.error({ err: error, rows: changes.length }, 'invalidating changed rows failed'));
  };
  const schedule = (): void => {
    timer ??= setTimeout(flush, Math.max(0, lastFlushAt + BATCH_MS - performance.now()));
  };
  const receive = (message: pg.Notification): void => {
    if (message.channel !== CHANGES_CHANNEL || !message.payload) return;
    try {
      const change = JSON.parse(message.payload) as RowChange;
      if (change.app === GATEWAY_APPLICATION_NAME) return; // our own write: invalidated by the writer already
      if (!leading) {
        const now = Date.now();
        recent = recent.filter((entry) => now - entry.at < REPLAY_MS);
        recent.push({ at: now, change });
        return;
      }
      pending.push(change);
    } catch {
      return;
    }
    schedule();
  };
  /** Tries the lock on the LISTEN connection; the session holds it until it ends. */
  const tryToLead = async (connection: pg.Client): Promise<void> => {
    const { rows } = await connection.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS locked',
      [`cachegate-change-feed:${options.leaderLock}`],
    );
    if (!rows[0]?.locked || stopped || client !== connection) return;
    leading = true;
    if (poll) clearInterval(poll);
    poll = undefined;
    const replay = recent.map((entry) => entry.change);
    recent = [];
    log.info({ pid: process.pid, replayed: replay.length }, 'change feed: leading');
    if (replay.length) {
      pending.push(...replay);
      schedule();
    }
  };
  const followOrLead = async (connection: pg.Client): Promise<void> => {
    if (options.leaderLock === undefined) return;
    leading = false;
    await tryToLead(connection);
    if (leading || stopped) return;
    log.info('change feed: following (another instance leads)');
    poll = setInterval(() => {
      if (client === connection && !leading)
        tryToLead(connection).catch((error: unknown) => log.warn({ err: error }, 'change feed: lock attempt failed'));
    }, LEADER_POLL_MS);
    poll.unref();
  };
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.databaseUrl, application_name: 'cachegate-change-feed' });
    next.on('notification', receive);
    next.on('error', (error) => {
      log.warn({ err: error }, 'change feed connection lost: reconnecting');
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      if (poll) clearInterval(poll);
      poll = undefined;
      scheduleReconnect();
    });
    await next.connect();
    await next.query(`LISTEN ${CHANGES_CHANNEL}`);
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
    failures = 0;
    await followOrLead(next);
  };
  const scheduleReconnect = (): void => {
    if (stopped) return;
    const delay = RECONNECT_MS[Math.min(failures, RECONNECT_MS.length - 1)]!;
    failures += 1;
    setTimeout(() => {
      connect().catch((error: unknown) => {
        log.warn({ err: error }, 'change feed could not reconnect');
        scheduleReconnect();
      });
    }, delay).unref();
  };

  await connect();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (poll) clearInterval(poll);
      await client?.end().catch(() => undefined);
    },
  };
}
