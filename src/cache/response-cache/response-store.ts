// Stored answers: L1 (an in-process LRU bounded by bytes) and Redis, each entry indexed by the entity
// keys and tags it was built from, so a write purges exactly the answers that contain what it touched.
//
// Decisions:
// - Redis keeps one index set per entity key or tag (<prefix>:rc@idx:<dep>) whose expiry is pushed to
//   the longest entry filed in it, so the index never outlives nor underlives what it points to; a
//   purge reads the sets and unlinks their members in one Lua script (no KEYS, no SCAN).
// - An answer computed before a write must never be stored after that write's purge. In this process
//   a purge stamps each dependency (purgedAt) and a store whose execution started before the stamp is
//   dropped. Across instances every purge takes a number from a Redis counter (<prefix>:rc@seq) and
//   marks each dependency with it for a minute; the lookup that preceded the execution read the counter
//   (in the same MGET as the entries), and the store script refuses when any dependency was marked
//   with a later number.
// - Every instance that hears of an invalidation purges Redis too, not only its L1: an answer another
//   instance built from its not-yet-invalidated L1 and stored meanwhile is removed then.
// - Redis is optional: failures count as misses; purges that could not reach Redis are replayed when
//   the circuit closes (or, past a bound, every stored answer is dropped).
import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../infra/logger.ts';
import type { Metrics } from '../../infra/metrics.ts';
import type { RedisCircuit } from '../../redis/circuit-breaker.ts';
import { isCluster, mgetAll, taggedKey, unlinkAll, unlinkMatching } from '../../redis/slots.ts';
import { counterFloor, nextNumberLua, takeNumber } from '../invalidation-sequence.ts';
import { InvalidationStamps } from '../invalidation-stamps.ts';

export interface StoredResponse {
  body: string;
  contentType: string;
  /** The minimum maxAge of the hints the answer touched (seconds). */
  maxAge: number;
  /** The minimum stale-while-revalidate grace of the hints it touched (seconds; stale-grace.ts). */
  grace: number;
  /** When it stops being fresh (epoch ms): maxAge after it was built. */
  freshUntil: number;
  scope: string;
  /** Entity keys and `tag:<name>` the answer was built from. */
  deps: string[];
}

/** A purge marker outlives any execution that could still try to store an answer built before it. */
const PURGE_MARKER_MS = 60_000;
const MAX_PENDING_PURGES = 50_000;
/** L1 keeps an answer no longer than this: bounds staleness should an invalidation message be lost. */
const L1_MAX_TTL_MS = 60_000;

// KEYS[1]: the counter; then (index, marker) pairs. ARGV[1]: marker lifetime (ms), ARGV[2]: counterFloor().
const PURGE_LUA = `
${nextNumberLua(2)}
for i = 2, #KEYS, 2 do
  redis.call('SET', KEYS[i + 1], seq, 'PX', ARGV[1])
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
end
return seq`;

// KEYS[1]: the refresh lock of an entry, KEYS[2]: the purge counter. ARGV[1]: lock lifetime (ms).
// The counter value (read with the lock taken, before the refresh executes) or false when already taken.
const CLAIM_LUA = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return false end
return redis.call('GET', KEYS[2]) or '0'`;

/** A refresh runs at most this long; past it another instance may try. */
const REFRESH_LOCK_MS = 30_000;

// KEYS[1]: the entry; then (index, marker) pairs. ARGV: value, ttl (ms), counter value seen at lookup.
const STORE_LUA = `
local seen = tonumber(ARGV[3])
for i = 2, #KEYS, 2 do
  local purged = redis.call('GET', KEYS[i + 1])
  if purged and tonumber(purged) > seen then return 0 end
end
local ttl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS, 2 do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

/** Redis keeps an answer as long as it may be served, stale or not. */
function ttlOf(entry: StoredResponse): number {
  return Math.max(1, Math.round(servableUntil(entry) - Date.now()));
}

// On a cluster an entry and its dependencies lie in different slots, so no one script can see them all
// (docs/ARCHITECTURE.md "Redis topologies"). A store then writes a placeholder (a miss to readers),
// files it in each dependency's index and checks that dependency's marker in one script per dependency
// (index and marker share a slot), and only then fills the entry in, if it still exists: a purge that ran
// before a dependency's script marked it (refused), one after found the entry in the index and deleted
// it. The placeholder is this store's own (a random token): filling in another store's placeholder, put
// there after the purge deleted ours, would bring an answer from before the purge back. A purge takes
// its number, marks each dependency and empties its index (one script each), then deletes the entries
// it found.
// KEYS: index, marker. ARGV: entry key, ttl (ms), counter value seen at lookup. 1: filed, 0: refused.
const FILE_LUA = `
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local purged = redis.call('GET', KEYS[2])
if purged and tonumber(purged) > tonumber(ARGV[3]) then return 0 end
return 1`;

// KEYS: the entry. ARGV: this store's placeholder, the answer (empty: refused, remove the placeholder),
// ttl (ms). 1: filled in.
const FILL_IN_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

// KEYS: index, marker. ARGV: the purge's number, marker lifetime (ms). Returns the index's members.
const MARK_LUA = `
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members`;

export interface ResponseStoreDeps {
  redis: RedisCircuit | undefined;
  prefix: string;
  maxBytes: number;
  metrics: Metrics;
  logger: Logger;
}

/** What a Redis lookup found, and the purge counter it saw (undefined: Redis could not be asked). */
export interface RedisLookup {
  /** `shareable`: no purge here since the lookup began (else it may predate a write: its asker only). */
  found?: { key: string; entry: StoredResponse; shareable: boolean };
  seq: number | undefined;
}

/** Until when an answer may be served at all: stale after freshUntil, gone after the grace. */
export function servableUntil(entry: StoredResponse): number {
  return entry.freshUntil + entry.grace * 1000;
}

/** Whether another instance or this one may take over refreshing a stale answer (claimRefresh). */
export interface RefreshClaim {
  claimed: boolean;
  /** The purge counter read with the claim; undefined when Redis could not be asked. */
  seq: number | undefined;
}

export class ResponseStore {
  private readonly lru: LRUCache<string, StoredResponse>;
  /** Dependency -> keys of the L1 entries built from it. */
  private readonly index = new Map<string, Set<string>>();
  /** When this process last purged each dependency (performance.now()). */
  private readonly purgedAt = new InvalidationStamps();
  private readonly pendingPurges = new Set<string>();
  private dropAllOnRecovery = false;
  private readonly log: Logger;

  constructor(private readonly deps: ResponseStoreDeps) {
    this.log = deps.logger.child({ component: 'response-store' });
    this.lru = new LRUCache<string, StoredResponse>({
      maxSize: deps.maxBytes,
      ttlAutopurge: false,
      // Read the clock on every lookup: the default (1 ms) caches it behind a 1 ms timer, re-armed by the
      // first lookup after it fires, which wakes an otherwise idle event loop once per millisecond.
      ttlResolution: 0,
      dispose: (entry, key) => this.unindex(key, entry.deps),
    });
    deps.redis?.on('recovered', () => void this.replayPurges());
    deps.redis?.on('failover', () => void this.forgetAfterFailover());
  }

  /** Full key of an answer: the request's base key and the scope it was stored under. */
  key(base: string, scope: string): string {
    return `${this.deps.prefix}:rc@e:${base}:${scope}`;
  }

  /** Drops every answer held in this process (not Redis's): after invalidations may have been missed. */
  dropLocal(): void {
    this.lru.clear();
  }

  /** The first key present in L1. */
  getLocal(keys: readonly string[]): { key: string; entry: StoredResponse } | undefined {
    for (const key of keys) {
      const entry = this.lru.get(key);
      if (entry) return { key, entry };
    }
    return undefined;
  }

  /** One MGET: the first key present in Redis (copied into L1) and the purge counter. */
  async getRemote(keys: readonly string[], startedAt: number): Promise<RedisLookup> {
    const redis = this.deps.redis;
    if (!redis || redis.state === 'open') return { seq: undefined };
    let raw: (string | null)[];
    try {
      raw = await redis.run((r) => mgetAll(r, [this.seqKey(), ...keys]));
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'response-mget' });
      return { seq: undefined };
    }
    if (!Array.isArray(raw)) {
      // A reply of the wrong shape is a Redis fault: a miss, never a failed request.
      this.deps.metrics.redisErrors.inc({ operation: 'response-mget' });
      return { seq: undefined };
    }
    const seq = Number(raw[0] ?? 0);
    // Answers are JSON objects; anything else is a cluster store's placeholder, not filled in yet: a miss.
    const at = raw.findIndex((text, i) => i > 0 && text?.startsWith('{'));
    if (at < 0) return { seq };
    const key = keys[at - 1]!;
    const entry = JSON.parse(raw[at]!) as StoredResponse;
    if (servableUntil(entry) <= Date.now()) return { seq }; // past its grace: only clocks apart keep it
    return { found: { key, entry, shareable: this.putLocal(key, entry, startedAt) }, seq };
  }

  /**
   * Stores an answer whose execution started at `startedAt` (performance.now()) in L1, unless one of its
   * dependencies was purged since; false then: the answer may be stale and must not be shared.
   */
  putLocal(key: string, entry: StoredResponse, startedAt: number): boolean {
    if (this.purgedSince(entry.deps, startedAt)) return false;
    const ttl = Math.min(servableUntil(entry) - Date.now(), L1_MAX_TTL_MS);
    if (ttl <= 0) return false;
    this.lru.set(key, entry, { ttl, size: entry.body.length + 64 * (entry.deps.length + 4) });
    for (const dep of entry.deps) {
      let keys = this.index.get(dep);
      if (!keys) this.index.set(dep, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  /** Whether one of `deps` was purged here since `since` (performance.now()). */
  purgedSince(deps: readonly string[], since: number): boolean {
    return deps.some((dep) => this.purgedAt.since(dep, since));
  }

  /**
   * Stores an answer (already in L1) in Redis, after a lookup that saw purge counter `seq`, unless the
   * store script finds a dependency purged since that lookup (or the lookup could not read the counter).
   */
  async putRemote(key: string, entry: StoredResponse, seq: number | undefined): Promise<boolean> {
    const redis = this.deps.redis;
    if (!redis || seq === undefined || redis.state === 'open') return false;
    const keys = [key, ...entry.deps.flatMap((dep) => [this.indexKey(dep), this.markerKey(dep)])];
    const ttl = ttlOf(entry);
    try {
      return await redis.run(async (r) => {
        if (!isCluster(r))
          return (await r.eval(STORE_LUA, keys.length, ...keys, JSON.stringify(entry), ttl, seq)) === 1;
        const placeholder = `pending:${randomUUID()}`;
        await r.set(key, placeholder, 'PX', ttl);
        const filed = await Promise.all(
          entry.deps.map((dep) => r.eval(FILE_LUA, 2, this.indexKey(dep), this.markerKey(dep), key, ttl, seq)),
        );
        const refused = filed.some((answer) => answer !== 1);
        const answer = refused ? '' : JSON.stringify(entry);
        return (await r.eval(FILL_IN_LUA, 1, key, placeholder, answer, ttl)) === 1;
      });
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'response-store' });
      return false;
    }
  }

  /**
   * Claims the refresh of a stale answer for this instance across the cluster (SET NX PX): false when
   * another refresh holds it. Without Redis the caller's own in-process guard is all there is.
   */
  async claimRefresh(key: string): Promise<RefreshClaim> {
    const redis = this.deps.redis;
    if (!redis || redis.state === 'open') return { claimed: true, seq: undefined };
    try {
      const seq = await redis.run(async (r) => {
        if (!isCluster(r)) return r.eval(CLAIM_LUA, 2, this.lockKey(key), this.seqKey(), REFRESH_LOCK_MS);
        // On a cluster the lock and the counter lie in different slots. Reading the counter first is as
        // safe: the refresh's store is then checked against purges since an even earlier point.
        const before = (await r.get(this.seqKey())) ?? '0';
        return (await r.set(this.lockKey(key), '1', 'PX', REFRESH_LOCK_MS, 'NX')) ? before : null;
      });
      return seq === null ? { claimed: false, seq: undefined } : { claimed: true, seq: Number(seq) };
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'response-claim' });
      return { claimed: true, seq: undefined };
    }
  }

  /**
   * Lets another instance refresh at once after a refresh that stored nothing. A successful refresh
   * keeps its claim until it expires: a stale copy still in another instance's L1 then finds the fresh
   * answer in Redis instead of executing again.
   */
  async releaseRefresh(key: string): Promise<void> {
    await this.deps.redis?.run((r) => r.del(this.lockKey(key))).catch(() => undefined);
  }

  /** Drops every stored answer built from one of the dependencies, here and in Redis. */
  async purge(deps: readonly string[]): Promise<void> {
    if (deps.length === 0) return;
    this.purgeLocal(deps);
    await this.purgeRemote(deps);
    // Until Redis had purged them, a lookup here could still find the old answers there and copy them
    // into L1: again now, so that neither those copies nor lookups begun before stay.
    this.purgeLocal(deps);
  }

  private purgeLocal(deps: readonly string[]): void {
    this.purgedAt.stamp(deps);
    for (const dep of deps) {
      const keys = this.index.get(dep);
      if (keys) for (const key of [...keys]) this.lru.delete(key);
    }
  }

  get size(): number {
    return this.lru.size;
  }

  private unindex(key: string, deps: readonly string[]): void {
    for (const dep of deps) {
      const keys = this.index.get(dep);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.index.delete(dep);
    }
  }

  private async purgeRemote(deps: readonly string[]): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    const keys = [this.seqKey(), ...deps.flatMap((dep) => [this.indexKey(dep), this.markerKey(dep)])];
    try {
      await redis.run(async (r) => {
        if (!isCluster(r)) return void (await r.eval(PURGE_LUA, keys.length, ...keys, PURGE_MARKER_MS, counterFloor()));
        const seq = await takeNumber(r, this.seqKey());
        const found = await Promise.all(
          deps.map((dep) => r.eval(MARK_LUA, 2, this.indexKey(dep), this.markerKey(dep), seq, PURGE_MARKER_MS)),
        );
        await unlinkAll(r, (found as string[][]).flat());
      });
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'response-purge' });
      if (this.dropAllOnRecovery) return;
      for (const dep of deps) this.pendingPurges.add(dep);
      if (this.pendingPurges.size > MAX_PENDING_PURGES) {
        this.pendingPurges.clear();
        this.dropAllOnRecovery = true;
      }
    }
  }

  /**
   * After a cluster failover an index may have lost entries the old master took, leaving answers no purge
   * can find: every stored answer goes, in Redis and then here. Markers and indexes stay.
   */
  private async forgetAfterFailover(): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    await redis
      .run((r) => unlinkMatching(r, `${this.deps.prefix}:rc@e:*`))
      .catch(() => (this.dropAllOnRecovery = true));
    this.dropLocal();
    this.log.info('dropped every stored answer after a redis cluster failover');
  }

  private async replayPurges(): Promise<void> {
    const redis = this.deps.redis;
    if (!redis) return;
    if (this.dropAllOnRecovery) {
      this.dropAllOnRecovery = false;
      await redis
        .run((r) => unlinkMatching(r, `${this.deps.prefix}:rc@*`))
        .catch(() => (this.dropAllOnRecovery = true));
      this.log.warn('dropped every stored answer after an outage with too many purges to replay');
      return;
    }
    const deps = [...this.pendingPurges];
    this.pendingPurges.clear();
    for (let i = 0; i < deps.length; i += 200) await this.purgeRemote(deps.slice(i, i + 200));
  }

  private seqKey(): string {
    return `${this.deps.prefix}:rc@seq`;
  }

  private lockKey(key: string): string {
    return key.replace(':rc@e:', ':rc@lock:');
  }

  /** Index and marker of a dependency share its hash slot (a cluster runs one script over both). */
  indexKey(dep: string): string {
    return taggedKey(`${this.deps.prefix}:rc@idx:`, dep);
  }

  private markerKey(dep: string): string {
    return taggedKey(`${this.deps.prefix}:rc@purged:`, dep);
  }
}
