// The seat lock in Redis: one Lua script decides a hold atomically (every seat or none, the per-user limit,
// extension of the caller's own hold), so a flash sale's losers are refused by Redis without queueing on
// PostgreSQL's row locks. PostgreSQL stays the truth (docs/ARCHITECTURE.md): a hold decided here is
// mirrored there in the same request, and undone here when PostgreSQL refuses it.
//
// Decisions:
// - Every key of an event carries the hash tag {<eventId>}, so each script touches one hash slot and runs
//   unchanged on Redis Cluster; every key a script touches is passed in KEYS.
// - Scripts are defined once on the connection (ioredis defineCommand): called by EVALSHA, sent in full
//   only when the server answers NOSCRIPT (after a restart).
// - An event's state is loaded from PostgreSQL the first time it is needed ("primed"), and dropped
//   whenever Redis and PostgreSQL disagree or Redis was away: the next hold primes it again.
// - Expired holds are freed lazily by the scripts; the sweeper (hold-sweeper.ts) releases them for real.
import { execPipeline, RedisUnavailableError, type RedisCircuit } from '../redis/circuit-breaker.ts';
import type { Redis } from '../redis/connection.ts';
import type { RefusedSeat, SeatRefusal } from './errors.ts';

/**
 * Seat value "H:<holdId>" (held) or "B" (booked); a hold is "<userId>|<expiresAtMs>|<createdAtMs>|<seat>,<seat>"
 * (a value without createdAt, written before the lifetime cap, reads as created now).
 */
const LUA_PARSE = `
local function parse(v)
  local u, x, c, s = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if not u then u, x, s = string.match(v, '^([^|]*)|([^|]*)|(.*)$') end
  local seats = {}
  for id in string.gmatch(s, '[^,]+') do seats[#seats + 1] = id end
  return u, tonumber(x), tonumber(c), seats
end
local function drop(hid)
  local v = redis.call('HGET', KEYS[2], hid)
  if not v then return end
  local u, x, c, seats = parse(v)
  for _, s in ipairs(seats) do
    if redis.call('HGET', KEYS[1], s) == 'H:' .. hid then redis.call('HDEL', KEYS[1], s) end
  end
  redis.call('HDEL', KEYS[2], hid)
  if redis.call('HGET', KEYS[3], u) == hid then redis.call('HDEL', KEYS[3], u) end
end
`;

/**
 * KEYS: seats, holds, users, primed, every seat id.
 * ARGV: now, ttlMs, new hold id, user id, max seats, max lifetime ms, seat ids...
 * Returns {'UNPRIMED'} | {'REFUSED', seat, reason (HELD, BOOKED, NOT_FOUND), ...} | {'LIMIT', total}
 *   | {'OK', holdId, expiresAt, new(0|1), createdAt, added...}
 * An extension never moves expiresAt past createdAt + max lifetime (docs/ARCHITECTURE.md, "Seat holds:
 * failures and lifetime").
 */
const HOLD = `${LUA_PARSE}
if redis.call('EXISTS', KEYS[4]) == 0 then return {'UNPRIMED'} end
local now = tonumber(ARGV[1])
local user = ARGV[4]
local hid = redis.call('HGET', KEYS[3], user)
local current = {}
local fresh = 1
local created = now
if hid then
  local v = redis.call('HGET', KEYS[2], hid)
  if v then
    local u, x, c, seats = parse(v)
    if x <= now then drop(hid); hid = nil else current = seats; fresh = 0; created = c or now end
  else
    hid = nil
  end
end
if not hid then hid = ARGV[3] end
local mine = {}
for _, s in ipairs(current) do mine[s] = true end
local refused = {}
local added = {}
for i = 7, #ARGV do
  local s = ARGV[i]
  if not mine[s] then
    mine[s] = true
    local v = redis.call('HGET', KEYS[1], s)
    if redis.call('SISMEMBER', KEYS[5], s) == 0 then
      refused[#refused + 1] = s
      refused[#refused + 1] = 'NOT_FOUND'
    elseif v == 'B' then
      refused[#refused + 1] = s
      refused[#refused + 1] = 'BOOKED'
    elseif v then
      local other = string.sub(v, 3)
      local ov = redis.call('HGET', KEYS[2], other)
      local live = false
      if ov then
        local _, ox = parse(ov)
        live = ox > now
      end
      if live then
        refused[#refused + 1] = s
        refused[#refused + 1] = 'HELD'
      else
        drop(other)
        redis.call('HDEL', KEYS[1], s)
        added[#added + 1] = s
      end
    else
      added[#added + 1] = s
    end
  end
end
if #refused > 0 then
  table.insert(refused, 1, 'REFUSED')
  return refused
end
local total = #current + #added
if total > tonumber(ARGV[5]) then return {'LIMIT', tostring(total)} end
local all = {}
for _, s in ipairs(current) do all[#all + 1] = s end
for _, s in ipairs(added) do
  all[#all + 1] = s
  redis.call('HSET', KEYS[1], s, 'H:' .. hid)
end
local exp = math.min(now + tonumber(ARGV[2]), created + tonumber(ARGV[6]))
redis.call('HSET', KEYS[2], hid, user .. '|' .. exp .. '|' .. created .. '|' .. table.concat(all, ','))
redis.call('HSET', KEYS[3], user, hid)
local reply = {'OK', hid, tostring(exp), tostring(fresh), tostring(created)}
for _, s in ipairs(added) do reply[#reply + 1] = s end
return reply
`;

/** Undoes what HOLD added when PostgreSQL refused it. KEYS as HOLD. ARGV: hold id, seats it added... */
const REVERT = `${LUA_PARSE}
local hid = ARGV[1]
local gone = {}
for i = 2, #ARGV do
  gone[ARGV[i]] = true
  if redis.call('HGET', KEYS[1], ARGV[i]) == 'H:' .. hid then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
local v = redis.call('HGET', KEYS[2], hid)
if not v then return 0 end
local u, x, c, seats = parse(v)
local kept = {}
for _, s in ipairs(seats) do if not gone[s] then kept[#kept + 1] = s end end
if #kept == 0 then
  redis.call('HDEL', KEYS[2], hid)
  if redis.call('HGET', KEYS[3], u) == hid then redis.call('HDEL', KEYS[3], u) end
else
  redis.call('HSET', KEYS[2], hid, u .. '|' .. x .. '|' .. (c or '') .. '|' .. table.concat(kept, ','))
end
return 1
`;

/**
 * Applies what PostgreSQL committed. KEYS as HOLD. ARGV: hold id ('' for none), 'B' (book the seats) or ''
 * (free them), seats... Freeing only touches seats that still point at this hold (or are booked, hold id '').
 */
const SETTLE = `${LUA_PARSE}
local hid = ARGV[1]
for i = 3, #ARGV do
  local s = ARGV[i]
  local v = redis.call('HGET', KEYS[1], s)
  if ARGV[2] == 'B' then
    redis.call('HSET', KEYS[1], s, 'B')
  elseif (hid ~= '' and v == 'H:' .. hid) or (hid == '' and v == 'B') then
    redis.call('HDEL', KEYS[1], s)
  end
end
if hid ~= '' then drop(hid) end
return 1
`;

/** KEYS as HOLD. ARGV: JSON {seats: {id: value}, holds: {id: value}, users: {id: holdId}, all: [id]}. */
const PRIME = `
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[5])
local d = cjson.decode(ARGV[1])
for i = 1, #d.all, 1000 do redis.call('SADD', KEYS[5], unpack(d.all, i, math.min(i + 999, #d.all))) end
for k, v in pairs(d.seats) do redis.call('HSET', KEYS[1], k, v) end
for k, v in pairs(d.holds) do redis.call('HSET', KEYS[2], k, v) end
for k, v in pairs(d.users) do redis.call('HSET', KEYS[3], k, v) end
redis.call('SET', KEYS[4], '1')
return 1
`;

type Command = (...args: (string | number)[]) => Promise<unknown>;
interface SeatLockCommands {
  cgSeatHold: Command;
  cgSeatRevert: Command;
  cgSeatSettle: Command;
  cgSeatPrime: Command;
}

export type HoldDecision =
  | { kind: 'unprimed' }
  | { kind: 'refused'; seats: RefusedSeat[] }
  | { kind: 'limit'; total: number }
  | { kind: 'held'; holdId: string; expiresAt: Date; createdAt: Date; isNew: boolean; added: string[] };

/** An event's held and booked seats as PostgreSQL has them, for priming. */
export interface EventLockState {
  /** Every seat id of the event: anything else is NOT_FOUND. */
  all: string[];
  seats: Record<string, string>;
  holds: Record<string, string>;
  users: Record<string, string>;
}

export function heldValue(holdId: string): string {
  return `H:${holdId}`;
}

export function holdValue(userId: string, expiresAt: Date, createdAt: Date, seatIds: readonly string[]): string {
  return `${userId}|${expiresAt.getTime()}|${createdAt.getTime()}|${seatIds.join(',')}`;
}

export class SeatLock {
  private readonly defined = new WeakSet<Redis>();

  constructor(
    private readonly circuit: RedisCircuit,
    private readonly prefix: string,
  ) {}

  /** The state of the circuit: while open, holds go to PostgreSQL alone. */
  get available(): boolean {
    return this.circuit.state === 'closed';
  }

  keys(eventId: string): string[] {
    const base = `${this.prefix}:tk:{${eventId}}`;
    return [`${base}:seats`, `${base}:holds`, `${base}:users`, `${base}:primed`, `${base}:all`];
  }

  async hold(
    eventId: string,
    args: {
      userId: string;
      newHoldId: string;
      seatIds: readonly string[];
      ttlMs: number;
      maxSeats: number;
      maxLifetimeMs: number;
    },
  ): Promise<HoldDecision> {
    const reply = (await this.run((c) =>
      c.cgSeatHold(
        ...this.keys(eventId),
        Date.now(),
        args.ttlMs,
        args.newHoldId,
        args.userId,
        args.maxSeats,
        args.maxLifetimeMs,
        ...args.seatIds,
      ),
    )) as unknown;
    // A reply of the wrong shape is a Redis fault, not an answer: the hold then takes the PostgreSQL path.
    if (!Array.isArray(reply)) throw new RedisUnavailableError(new Error('seat hold reply is not a list'));
    const [kind, ...rest] = reply as string[];
    if (kind === 'UNPRIMED') return { kind: 'unprimed' };
    if (kind === 'LIMIT') return { kind: 'limit', total: Number(rest[0]) };
    if (kind === 'REFUSED') {
      const seats: RefusedSeat[] = [];
      for (let i = 0; i < rest.length; i += 2) seats.push({ id: rest[i]!, reason: rest[i + 1] as SeatRefusal });
      return { kind: 'refused', seats };
    }
    const [holdId, expiresAt, isNew, createdAt, ...added] = rest;
    return {
      kind: 'held',
      holdId: holdId!,
      expiresAt: new Date(Number(expiresAt)),
      createdAt: new Date(Number(createdAt)),
      isNew: isNew === '1',
      added,
    };
  }

  async revert(eventId: string, holdId: string, added: readonly string[]): Promise<void> {
    await this.run((c) => c.cgSeatRevert(...this.keys(eventId), holdId, ...added));
  }

  /** Seats PostgreSQL booked (booked: true) or gave back, and the hold they came from, if any. */
  async settle(eventId: string, holdId: string | null, seatIds: readonly string[], booked: boolean): Promise<void> {
    await this.run((c) => c.cgSeatSettle(...this.keys(eventId), holdId ?? '', booked ? 'B' : '', ...seatIds));
  }

  async prime(eventId: string, state: EventLockState): Promise<void> {
    await this.run((c) => c.cgSeatPrime(...this.keys(eventId), JSON.stringify(state)));
  }

  /** Forgets an event's state: the next hold primes it from PostgreSQL again. */
  async forget(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    // One UNLINK per event: each is one slot.
    await this.circuit.run((redis) =>
      execPipeline(redis, (pipeline) => {
        for (const eventId of eventIds) pipeline.unlink(this.keys(eventId)[3]!);
      }),
    );
  }

  private run<T>(call: (commands: SeatLockCommands) => Promise<T>): Promise<T> {
    return this.circuit.run((redis) => call(this.commandsOf(redis)));
  }

  private commandsOf(redis: Redis): SeatLockCommands {
    if (!this.defined.has(redis)) {
      redis.defineCommand('cgSeatHold', { numberOfKeys: 5, lua: HOLD });
      redis.defineCommand('cgSeatRevert', { numberOfKeys: 5, lua: REVERT });
      redis.defineCommand('cgSeatSettle', { numberOfKeys: 5, lua: SETTLE });
      redis.defineCommand('cgSeatPrime', { numberOfKeys: 5, lua: PRIME });
      this.defined.add(redis);
    }
    return redis as unknown as SeatLockCommands;
  }
}
