// Expiry: every instance sweeps expired holds from PostgreSQL every `intervalMs` (a few milliseconds of
// work, on an index), so a hold's seats come back within that interval of its expiry even when the instance
// that made it was restarted or killed. Instances sweeping at once skip each other's rows (SKIP LOCKED).
// Each round also republishes seat changes left in the outbox by an instance that died before publishing.
import type { Logger } from '../infra/logger.ts';
import type { HoldService } from './hold-service.ts';
import { OUTBOX_ORPHAN_MS, type SeatChangePublisher } from './seat-change-publisher.ts';

export class HoldSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The outbox needs no faster round than its orphan age: rows younger than that are left alone anyway. */
  private outboxSweptAt = 0;

  constructor(
    private readonly holds: HoldService,
    private readonly publisher: SeatChangePublisher,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepAll().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  private async sweepAll(): Promise<void> {
    try {
      // A full batch means more may be waiting: go again at once.
      while (!this.stopped && (await this.holds.sweep()) >= 500);
      if (Date.now() - this.outboxSweptAt >= OUTBOX_ORPHAN_MS / 2) {
        this.outboxSweptAt = Date.now();
        while (!this.stopped && (await this.publisher.sweepOutbox()) >= 500);
      }
    } catch (error) {
      // PostgreSQL away: the next round tries again; nothing is lost, the rows still say ACTIVE.
      this.logger.warn({ err: error }, 'hold sweep failed; retrying on the next round');
    }
  }
}
