// Deletes that could not reach Redis, kept until the circuit closes and then replayed. If more pile up
// than the queue holds, the replay flushes every cached entity under the prefix instead (correct, just
// colder): guessing which keys were missed would not be.
const MAX_PENDING_DELETES = 50_000;

export class ReplayQueue {
  private readonly keys = new Set<string>();
  private flushAll = false;

  add(keys: readonly string[]): void {
    if (this.flushAll) return;
    for (const key of keys) this.keys.add(key);
    if (this.keys.size > MAX_PENDING_DELETES) this.giveUp();
  }

  /** Too much was missed to list: the next replay flushes everything. */
  giveUp(): void {
    this.keys.clear();
    this.flushAll = true;
  }

  /** What to replay now, emptying the queue: every cached entity, or these keys. */
  take(): { flushAll: true } | { flushAll: false; keys: string[] } {
    if (this.flushAll) {
      this.flushAll = false;
      this.keys.clear();
      return { flushAll: true };
    }
    const keys = [...this.keys];
    this.keys.clear();
    return { flushAll: false, keys };
  }
}
