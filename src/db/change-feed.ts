// The change feed: one PostgreSQL connection LISTENing on cachegate_changes, which the triggers of
// the change_notify migration notify for every changed row of a cached table. Notifications arriving
// within BATCH_MS are handed over together, so a batch job's thousands of rows cost a few batches of
// invalidations, not one per row. Rows the gateway wrote itself are skipped: its writes invalidate
// already. The connection is re-opened after a failure, with a backoff.
import pg from 'pg';
import type { Logger } from '../infra/logger.ts';
import { GATEWAY_APPLICATION_NAME } from './prisma.ts';

export const CHANGES_CHANNEL = 'cachegate_changes';
const BATCH_MS = 50;
const RECONNECT_MS = [250, 500, 1_000, 2_000, 5_000];

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
}): Promise<ChangeFeed> {
  const log = options.logger.child({ component: 'change-feed' });
  let client: pg.Client | undefined;
  let stopped = false;
  let failures = 0;
  let pending: RowChange[] = [];
  let timer: NodeJS.Timeout | undefined;

  const flush = (): void => {
    timer = undefined;
    const changes = pending;
    pending = [];
    options
      .onChanges(changes)
      .catch((error: unknown) => log.error({ err: error, rows: changes.length }, 'invalidating changed rows failed'));
  };
  const receive = (message: pg.Notification): void => {
    if (message.channel !== CHANGES_CHANNEL || !message.payload) return;
    try {
      const change = JSON.parse(message.payload) as RowChange;
      if (change.app === GATEWAY_APPLICATION_NAME) return; // our own write: invalidated by the writer already
      pending.push(change);
    } catch {
      return;
    }
    timer ??= setTimeout(flush, BATCH_MS);
  };
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.databaseUrl, application_name: 'cachegate-change-feed' });
    next.on('notification', receive);
    next.on('error', (error) => {
      log.warn({ err: error }, 'change feed connection lost: reconnecting');
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
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
      await client?.end().catch(() => undefined);
    },
  };
}
