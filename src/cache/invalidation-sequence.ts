// Which writes a fill already knew about, across instances.
//
// A fill that read PostgreSQL before a write committed must not land in Redis after that write's
// delete. Each invalidation of entity keys takes a number from a Redis counter and marks its keys with
// it for a minute (INVALIDATE below); every instance notes the numbers of the invalidations it made or
// heard of, and when. A fill writes a key only when the key's mark (if any) is one this instance knew
// before the fill started (FILL below): that write committed before the read. An unknown mark may be a
// write after the read, so the fill leaves Redis alone.
import type { Redis } from '../redis/connection.ts';
import { companionKey, isCluster, perSlot, slotGroups } from '../redis/slots.ts';

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

/** Lua that marks (key, mark) pairs from KEYS[first] on with the number `seq`, for ARGV[lifetime] ms. */
const markLua = (first: number, lifetime: number): string => `
for i = ${first}, #KEYS, 2 do
  redis.call('UNLINK', KEYS[i])
  redis.call('SET', KEYS[i + 1], seq, 'PX', ARGV[${lifetime}])
end
return seq`;

/** KEYS[1]: the counter, then (key, mark) pairs. ARGV[1]: mark lifetime (ms), ARGV[2]: counterFloor(). */
const INVALIDATE_LUA = `${nextNumberLua(2)}${markLua(2, 1)}`;
/** KEYS[1]: the counter. ARGV[1]: counterFloor(). Returns the next number. */
const NEXT_NUMBER_LUA = `${nextNumberLua(1)}
return seq`;
/** KEYS: (key, mark) pairs of one slot. ARGV[1]: the number, ARGV[2]: mark lifetime (ms). */
const MARK_LUA = `local seq = ARGV[1]${markLua(1, 2)}`;

/** KEYS: (key, mark) pairs. ARGV[1]: the last invalidation number known at fill start, then (value, ttl) pairs. */
const FILL_LUA = `
local known = tonumber(ARGV[1])
for i = 1, #KEYS, 2 do
  local mark = redis.call('GET', KEYS[i + 1])
  if not mark or tonumber(mark) <= known then
    redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[i + 2])
  end
end
return 0`;

/** A key with its mark, which lives in the key's hash slot so that one script reads or sets both. */
const withMarks = (keys: readonly string[]): string[] => keys.flatMap((key) => [key, companionKey(key, 'inv')]);

/**
 * Deletes the keys and marks them with the next number of `counter`; returns the number. One script on
 * one server. On a cluster the number is taken first, then each slot's keys are deleted and marked:
 * still safe, since a fill that knows the number started after it was taken, after the write committed
 * (docs/ARCHITECTURE.md "Redis topologies").
 */
export async function invalidateMarked(redis: Redis, counter: string, keys: readonly string[]): Promise<number> {
  if (!isCluster(redis)) {
    const pairs = withMarks(keys);
    return Number(
      await redis.eval(INVALIDATE_LUA, pairs.length + 1, counter, ...pairs, INVALIDATION_MARK_MS, counterFloor()),
    );
  }
  const seq = await takeNumber(redis, counter);
  await perSlot(redis, keys, (group) =>
    redis.eval(MARK_LUA, group.length * 2, ...withMarks(group), seq, INVALIDATION_MARK_MS),
  );
  return seq;
}

/** The next number of `counter` (nextNumberLua), by itself. */
export async function takeNumber(redis: Redis, counter: string): Promise<number> {
  return Number(await redis.eval(NEXT_NUMBER_LUA, 1, counter, counterFloor()));
}

export interface MarkedFill {
  key: string;
  text: string;
  ttlMs: number;
}

/** Writes each fill whose key carries no mark unknown at `known` (one script per slot on a cluster). */
export async function fillUnlessMarked(redis: Redis, fills: readonly MarkedFill[], known: number): Promise<void> {
  const keys = fills.map((fill) => fill.key);
  await Promise.all(
    slotGroups(redis, keys).map((group) => {
      const values = group.flatMap((i) => [fills[i]!.text, fills[i]!.ttlMs]);
      return redis.eval(FILL_LUA, group.length * 2, ...withMarks(group.map((i) => keys[i]!)), known, ...values);
    }),
  );
}

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
