// Which writes a fill already knew about, across instances.
//
// A fill that read PostgreSQL before a write committed must not land in Redis after that write's
// delete. Each invalidation of entity keys takes a number from a Redis counter and marks its keys with
// it for a minute (INVALIDATE below); every instance notes the numbers of the invalidations it made or
// heard of, and when. A fill writes a key only when the key's mark (if any) is one this instance knew
// before the fill started (FILL below): that write committed before the read. An unknown mark may be a
// write after the read, so the fill leaves Redis alone.

/** How long a mark lives: longer than any fill (a PostgreSQL read) can take. */
export const INVALIDATION_MARK_MS = 60_000;

/**
 * Lua that takes the next number from the counter KEYS[1]. A counter that is missing (Redis restarted
 * without persistence, or a flush after an outage) starts again from ARGV[argv], the clock in
 * microseconds (counterFloor), so numbers never go back: a lost counter must not make new marks look
 * older than what instances already know.
 */
export function nextNumberLua(argv: number): string {
  return `if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[${argv}]) end
local seq = redis.call('INCR', KEYS[1])`;
}

/** What a missing counter starts from: larger than any number handed out before (see nextNumberLua). */
export const counterFloor = (): number => Date.now() * 1000;

/**
 * KEYS[1]: the counter, then the keys. ARGV[1]: mark lifetime (ms), ARGV[2]: counterFloor().
 * Returns the invalidation's number.
 */
export const INVALIDATE_LUA = `
${nextNumberLua(2)}
for i = 2, #KEYS do
  redis.call('UNLINK', KEYS[i])
  redis.call('SET', KEYS[i] .. ':inv', seq, 'PX', ARGV[1])
end
return seq`;

/** KEYS: the keys. ARGV[1]: the last invalidation number known at fill start, then (value, ttl) pairs. */
export const FILL_LUA = `
local known = tonumber(ARGV[1])
for i = 1, #KEYS do
  local mark = redis.call('GET', KEYS[i] .. ':inv')
  if not mark or tonumber(mark) <= known then
    redis.call('SET', KEYS[i], ARGV[2 * i], 'PX', ARGV[2 * i + 1])
  end
end
return 0`;

export class InvalidationSequence {
  private readonly known: { at: number; seq: number }[] = [];

  /** Notes an invalidation's number, made here or heard from another instance. */
  note(seq: number): void {
    const last = this.known.at(-1);
    if (last && seq <= last.seq) return;
    const now = performance.now();
    this.known.push({ at: now, seq });
    while (this.known.length > 1 && now - this.known[1]!.at > INVALIDATION_MARK_MS) this.known.shift();
  }

  /** The highest number known at `at` (a performance.now() time); 0 when older than what is kept. */
  knownAt(at: number): number {
    for (let i = this.known.length - 1; i >= 0; i -= 1) if (this.known[i]!.at <= at) return this.known[i]!.seq;
    return 0;
  }
}
