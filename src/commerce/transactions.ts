// Interactive transactions of the storefront (cart writes, checkout).
//
// Decisions:
// - At most `limit` of them run at once per instance (a little under the pool size); the rest wait here,
//   in memory, rather than in the pool's queue, whose 5 s connection timeout (src/db/prisma.ts) would
//   turn a burst of 100 checkouts into errors, and whose connections reads need too.
// - A transaction that cannot start within QUEUE_WAIT_MS, or that Prisma expires, is SERVICE_UNAVAILABLE:
//   it changed nothing, and the client may retry it.
import type { Database } from '../db/prisma.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { ServiceUnavailableError } from '../infra/errors.ts';

const QUEUE_WAIT_MS = 30_000;
const MAX_WAIT_MS = 5_000;
const TIMEOUT_MS = 15_000;
/** Prisma's "transaction could not start in time / has expired". */
const TRANSACTION_API_ERROR = 'P2028';

function busy(): ServiceUnavailableError {
  return new ServiceUnavailableError('the store is busy: nothing was changed, try again shortly');
}

export class TransactionRunner {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly db: Database,
    private readonly limit: number,
  ) {}

  async run<T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await this.db.$transaction(work, { maxWait: MAX_WAIT_MS, timeout: TIMEOUT_MS });
    } catch (error) {
      if ((error as { code?: unknown }).code === TRANSACTION_API_ERROR) throw busy();
      throw error;
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(turn), 1);
        reject(busy());
      }, QUEUE_WAIT_MS);
      this.waiting.push(turn);
    });
  }

  /** Hands the slot straight to the next in line, or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
