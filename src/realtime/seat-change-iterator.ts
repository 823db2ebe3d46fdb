// One subscriber's view of an event's seat changes: what it missed (from the log, or one snapshot when the
// log no longer has it), then live changes, always in sequence order, never a silent gap. A gap in the live
// feed is filled from the log; a subscriber that falls too far behind (its inbox is bounded) gets a snapshot
// instead of an ever-growing queue.
import type { EventBus } from './event-bus.ts';
import { seatTopic, type SeatChangeLog, type SeatChangeMessage } from './seat-changes.ts';

/** Live messages waiting for one subscriber beyond this are dropped for a snapshot. */
const INBOX_LIMIT = 256;
/** Changes replayed from the log in one read. */
const REPLAY_BATCH = 500;

export interface SeatChangeSource {
  bus: EventBus;
  log: SeatChangeLog;
  /** The whole seat map now, numbered with the log's current sequence (read before the map). */
  snapshot(eventId: string): Promise<SeatChangeMessage>;
}

export class SeatChangeIterator implements AsyncIterableIterator<SeatChangeMessage> {
  private readonly inbox: SeatChangeMessage[] = [];
  private readonly outbox: SeatChangeMessage[] = [];
  private last: number | undefined;
  private needsSnapshot = false;
  private started = false;
  private closed = false;
  private wake: (() => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly subscribed: Promise<void>;

  constructor(
    private readonly source: SeatChangeSource,
    private readonly eventId: string,
    private readonly afterSequence: number | null,
  ) {
    // Listening starts before the replay is read, so nothing published in between is missed.
    this.subscribed = source.bus
      .subscribe(seatTopic(eventId), (payload) => this.receive(payload as SeatChangeMessage))
      .then((unsubscribe) => {
        if (this.closed) unsubscribe();
        else this.unsubscribe = unsubscribe;
      });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<SeatChangeMessage>> {
    if (!this.started) {
      this.started = true;
      await this.subscribed;
      if (this.afterSequence !== null) await this.catchUp(this.afterSequence);
    }
    for (;;) {
      if (this.closed) return { done: true, value: undefined };
      const ready = this.outbox.shift();
      if (ready) return { done: false, value: ready };
      if (this.needsSnapshot) {
        this.needsSnapshot = false;
        await this.takeSnapshot();
        continue;
      }
      const message = this.inbox.shift();
      if (!message) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      if (this.last === undefined || message.sequence === this.last + 1) this.deliver(message);
      else if (message.sequence > this.last + 1) {
        // Missed some: fill the gap from the log, then this one follows from the inbox.
        this.inbox.unshift(message);
        await this.catchUp(this.last);
      }
      // else: already delivered (replayed), or older than a snapshot
    }
  }

  async return(): Promise<IteratorResult<SeatChangeMessage>> {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.inbox.length = 0;
    this.outbox.length = 0;
    this.wake?.();
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<SeatChangeMessage>> {
    await this.return();
    throw error;
  }

  private receive(message: SeatChangeMessage): void {
    if (this.closed) return;
    if (this.inbox.length >= INBOX_LIMIT) {
      this.inbox.length = 0;
      this.needsSnapshot = true;
    } else this.inbox.push(message);
    this.wake?.();
    this.wake = undefined;
  }

  private deliver(message: SeatChangeMessage): void {
    this.last = message.sequence;
    this.source.log.observe(this.eventId, message.sequence);
    this.outbox.push(message);
  }

  /** Everything after `after` from the log, or a snapshot when the log no longer has all of it. */
  private async catchUp(after: number): Promise<void> {
    let missed: SeatChangeMessage[] | 'gap';
    try {
      missed = await this.source.log.readAfter(this.eventId, after, REPLAY_BATCH);
    } catch {
      missed = 'gap'; // the log is unreachable: the map itself is still in PostgreSQL
    }
    if (missed !== 'gap' && missed.length === 0) missed = await this.nothingMissed(after);
    if (missed === 'gap') {
      await this.takeSnapshot();
      return;
    }
    if (this.last === undefined) this.last = after;
    const before = this.last;
    for (const message of missed) if (message.sequence === this.last + 1) this.deliver(message);
    // The log moved under us (trimmed between its two reads): start again from the truth.
    if (missed.length > 0 && this.last === before) await this.takeSnapshot();
  }

  /** An empty replay is right only if the log really ends at `after` (a client may send any number). */
  private async nothingMissed(after: number): Promise<[] | 'gap'> {
    if (this.inbox.some((m) => m.sequence > after + 1)) return 'gap';
    try {
      return (await this.source.log.currentSequence(this.eventId)) === after ? [] : 'gap';
    } catch {
      return 'gap';
    }
  }

  private async takeSnapshot(): Promise<void> {
    const snapshot = await this.source.snapshot(this.eventId);
    this.last = snapshot.sequence;
    this.outbox.push(snapshot);
  }
}
