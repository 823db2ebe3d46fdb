// Deletes audit entries older than the retention, on a timer, on one instance at a time: the run holds a
// PostgreSQL transaction-level advisory lock, so a second instance that fires meanwhile skips its turn
// (and the lock can never outlive a crashed instance: it ends with the transaction).
import type { Database } from '../db/prisma.ts';
import type { Logger } from '../infra/logger.ts';
import type { AuditLog } from './audit.ts';

/** The advisory lock key of this job ("cgau"). */
const LOCK_KEY = 0x63676175;
/** Rows per DELETE, so one run never holds a long statement over a big backlog. */
const BATCH = 5_000;

export type RetentionRun = { ran: false } | { ran: true; deleted: number };

export class AuditRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly deps: {
      db: Database;
      audit: AuditLog;
      logger: Logger;
      retentionDays: number;
      intervalSeconds: number;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.runOnce()
        .catch((error: unknown) => this.deps.logger.warn({ err: error }, 'audit retention run failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.deps.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One run: deletes what is older than the retention, unless another instance is running now. */
  async runOnce(): Promise<RetentionRun> {
    const cutoff = new Date(Date.now() - this.deps.retentionDays * 86_400_000);
    const result = await this.deps.db.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRaw<
          { locked: boolean }[]
        >`SELECT pg_try_advisory_xact_lock(${LOCK_KEY}) AS locked`;
        if (!lock?.locked) return { ran: false } as const;
        let deleted = 0;
        for (;;) {
          const count = await tx.$executeRaw`
            DELETE FROM "AuditLog" WHERE id IN (
              SELECT id FROM "AuditLog" WHERE "createdAt" < ${cutoff} ORDER BY id LIMIT ${BATCH})`;
          deleted += count;
          if (count < BATCH) break;
        }
        return { ran: true, deleted } as const;
      },
      { timeout: 60_000 },
    );
    if (result.ran && result.deleted > 0) {
      this.deps.logger.info({ deleted: result.deleted }, 'old audit entries deleted');
      await this.deps.audit.record({
        action: 'AUDIT_PURGED',
        detail: { deleted: result.deleted, before: cutoff.toISOString() },
      });
    }
    return result;
  }
}
