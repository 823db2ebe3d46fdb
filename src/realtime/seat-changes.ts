// The seat-change log: every change of an event's seat map gets the next per-event sequence number, is kept
// for replay, and is pushed to subscribers on every instance. With Redis, one Lua script numbers the change,
// appends it to a bounded Redis Stream and PUBLISHes it, so subscribers everywhere see changes in sequence
// order whichever instance made them. Without Redis (single instance) the same happens in memory.
import type { EventBus } from './event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import type { Redis } from '../redis/connection.ts';
import { isCluster } from '../redis/slots.ts';

export type SeatStatusName = 'AVAILABLE' | 'HELD' | 'BOOKED';

export interface Availability {
  eventId: string;
  total: number;
  available: number;
  held: number;
  booked: number;
}

/** Published on topic seats:<eventId>. */
export interface SeatChangeMessage {
  eventId: string;
  sequence: number;
  seats: { id: string; status: SeatStatusName }[];
  /** true: seats is the whole map. */
  snapshot: boolean;
  availability: Availability;
}

export type SeatChangeBody = Omit<SeatChangeMessage, 'sequence'>;

/** The event id is the channel's hash tag: on a cluster the log's script publishes in its own slot. */
export function seatTopic(eventId: string): string {
  return `seats:{${eventId}}`;
}

export interface SeatChangeLog {
  /** Numbers, stores and publishes a change; rejects when the log cannot be reached. */
  append(body: SeatChangeBody): Promise<number>;
  /** The changes after `after`, in order, or 'gap' when some of them are no longer kept. */
  readAfter(eventId: string, after: number, limit: number): Promise<SeatChangeMessage[] | 'gap'>;
  /** The last sequence number given to a change of the event (0: none yet). */
  currentSequence(eventId: string): Promise<number>;
  /** Tells the log a sequence number this instance delivered, so numbering never goes back below it. */
  observe(eventId: string, sequence: number): void;
}

/**
 * KEYS: sequence counter, stream. ARGV: channel, max length, the JSON body with "{" first, the highest
 * sequence the calling instance has given or delivered, PUBLISH or SPUBLISH (sharded, on a cluster: the
 * channel shares the keys' slot, see seatTopic). Stream ids are "<sequence>-1", so replay is one XRANGE.
 * A counter lost while the stream survived resumes after it; a Redis that restarted empty resumes after
 * what the instance knows, so live subscribers (which drop numbers they have passed) still hear it.
 */
const APPEND = `
local seq = redis.call('INCR', KEYS[1])
local floor = tonumber(ARGV[4])
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if last[1] then
  local l = tonumber(string.match(last[1][1], '^(%d+)'))
  if l > floor then floor = l end
end
if seq <= floor then
  seq = floor + 1
  redis.call('SET', KEYS[1], seq)
end
local msg = '{"sequence":' .. seq .. ',' .. string.sub(ARGV[3], 2)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-1', 'm', msg)
redis.call(ARGV[5], ARGV[1], msg)
return seq
`;

class RedisSeatChangeLog implements SeatChangeLog {
  private readonly defined = new WeakSet<Redis>();
  /** Per event, the highest sequence this instance numbered or delivered (one number per event). */
  private readonly highest = new Map<string, number>();

  constructor(
    private readonly circuit: RedisCircuit,
    private readonly prefix: string,
    private readonly maxLength: number,
  ) {}

  private keys(eventId: string): [string, string] {
    const base = `${this.prefix}:tk:{${eventId}}`;
    return [`${base}:seq`, `${base}:log`];
  }

  async append(body: SeatChangeBody): Promise<number> {
    const channel = `${this.prefix}:${seatTopic(body.eventId)}`;
    const reply = await this.circuit.run((redis) => {
      if (!this.defined.has(redis)) {
        redis.defineCommand('cgSeatChange', { numberOfKeys: 2, lua: APPEND });
        this.defined.add(redis);
      }
      const command = (redis as unknown as { cgSeatChange: (...args: (string | number)[]) => Promise<number> })
        .cgSeatChange;
      const publish = isCluster(redis) ? 'SPUBLISH' : 'PUBLISH';
      const floor = this.highest.get(body.eventId) ?? 0;
      const keys = this.keys(body.eventId);
      return command.call(redis, ...keys, channel, this.maxLength, JSON.stringify(body), floor, publish);
    });
    this.observe(body.eventId, Number(reply));
    return Number(reply);
  }

  observe(eventId: string, sequence: number): void {
    if (sequence > (this.highest.get(eventId) ?? 0)) this.highest.set(eventId, sequence);
  }

  async readAfter(eventId: string, after: number, limit: number): Promise<SeatChangeMessage[] | 'gap'> {
    const [, log] = this.keys(eventId);
    const [first, entries] = await this.circuit.run(async (redis) => {
      const oldest = await redis.xrange(log, '-', '+', 'COUNT', 1);
      const range = await redis.xrange(log, `${after + 1}-0`, '+', 'COUNT', limit);
      return [oldest[0], range] as const;
    });
    if (!first) return after === 0 ? [] : 'gap';
    if (Number(first[0].split('-')[0]) > after + 1) return 'gap';
    return entries.map(([, fields]) => JSON.parse(fields[1]!) as SeatChangeMessage);
  }

  async currentSequence(eventId: string): Promise<number> {
    const [seq, log] = this.keys(eventId);
    const [counter, last] = await this.circuit.run((redis) =>
      Promise.all([redis.get(seq), redis.xrevrange(log, '+', '-', 'COUNT', 1)]),
    );
    return Math.max(Number(counter ?? 0), last[0] ? Number(last[0][0].split('-')[0]) : 0);
  }
}

/** Single instance (no REDIS_URL): numbers and keeps the last `maxLength` changes of each event in memory. */
class InMemorySeatChangeLog implements SeatChangeLog {
  private readonly logs = new Map<string, { sequence: number; kept: SeatChangeMessage[] }>();

  constructor(
    private readonly bus: EventBus,
    private readonly maxLength: number,
  ) {}

  private logOf(eventId: string): { sequence: number; kept: SeatChangeMessage[] } {
    let log = this.logs.get(eventId);
    if (!log) this.logs.set(eventId, (log = { sequence: 0, kept: [] }));
    return log;
  }

  async append(body: SeatChangeBody): Promise<number> {
    const log = this.logOf(body.eventId);
    log.sequence += 1;
    const message: SeatChangeMessage = { ...body, sequence: log.sequence };
    log.kept.push(message);
    if (log.kept.length > this.maxLength) log.kept.splice(0, log.kept.length - this.maxLength);
    await this.bus.publish(seatTopic(body.eventId), message);
    return message.sequence;
  }

  async readAfter(eventId: string, after: number, limit: number): Promise<SeatChangeMessage[] | 'gap'> {
    const log = this.logOf(eventId);
    const oldest = log.kept[0]?.sequence ?? log.sequence + 1;
    if (after + 1 < oldest && after < log.sequence) return 'gap';
    return log.kept.filter((m) => m.sequence > after).slice(0, limit);
  }

  async currentSequence(eventId: string): Promise<number> {
    return this.logOf(eventId).sequence;
  }

  observe(): void {
    // In memory the numbering cannot be lost while the process lives.
  }
}

export function createSeatChangeLog(
  deps: { redis: RedisCircuit | undefined; bus: EventBus; prefix: string },
  maxLength: number,
): SeatChangeLog {
  return deps.redis
    ? new RedisSeatChangeLog(deps.redis, deps.prefix, maxLength)
    : new InMemorySeatChangeLog(deps.bus, maxLength);
}
