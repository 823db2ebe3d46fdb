// Tag generations: how a write purges every cached list and count of an entity type at once.
//
// Each tag ('Product', 'Event') has a generation number, and it is part of the key of every entry filed
// under the tag. Purging the tag bumps the number: from then on every lookup uses new keys, and the old
// entries are never read again and expire by their TTL. A purge is O(1) whatever the number of entries,
// nothing lists keys, and a fill that read PostgreSQL before the purge writes under the old generation,
// where nobody looks: it cannot put a stale page back.
//
// Decisions:
// - The number lives in Redis (<prefix>:tagver:<tag>), bumped by a Lua script to max(current + 1,
//   proposed), so instances never go backwards and concurrent bumps never collide.
// - Each instance keeps the numbers it knows and re-reads one from Redis at most once a second; a bump
//   is also broadcast, so other instances switch at once, and within a second even if they missed it.
// - While Redis is away, a bump is made locally (the clock in ms, or current + 1) and replayed to Redis
//   when the circuit closes.
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import type { Redis } from '../redis/connection.ts';

const REFRESH_MS = 1_000;

/** The tag of one tenant's share of a tag ('Event@<organization>'): bumping it purges only that tenant. */
export function tenantTag(tag: string, tenant: string): string {
  return `${tag}@${tenant}`;
}

const BUMP_LUA = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local proposed = tonumber(ARGV[1])
local next = math.max(current + 1, proposed)
redis.call('SET', KEYS[1], next)
return next`;

interface Known {
  generation: number;
  checkedAt: number;
}

export class TagGenerations {
  private readonly known = new Map<string, Known>();
  /** Bumps made while Redis was away, to replay: tag -> generation. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly redis: RedisCircuit | undefined,
    private readonly prefix: string,
  ) {}

  /** The key part for entries filed under these tags, e.g. "g17" or "g17.4". */
  async keyPart(tags: readonly string[]): Promise<string> {
    const generations = await Promise.all(tags.map((tag) => this.current(tag)));
    return `g${generations.join('.')}`;
  }

  /** Moves the tags to new generations; returns them, for the broadcast. */
  async bump(tags: readonly string[]): Promise<Record<string, number>> {
    const bumped: Record<string, number> = {};
    for (const tag of tags) {
      const proposed = Math.max(Date.now(), (this.known.get(tag)?.generation ?? 0) + 1);
      const generation = this.redis
        ? await this.redis.attempt(
            (r) => bumpIn(r, this.key(tag), proposed),
            'tag-bump',
            () => {
              this.pending.set(tag, proposed);
              return proposed;
            },
          )
        : proposed;
      this.known.set(tag, { generation, checkedAt: Date.now() });
      bumped[tag] = generation;
    }
    return bumped;
  }

  /** What another instance announced: never go backwards. */
  observe(generations: Record<string, number>): void {
    for (const [tag, generation] of Object.entries(generations)) {
      const known = this.known.get(tag);
      if (!known || generation > known.generation) this.known.set(tag, { generation, checkedAt: Date.now() });
    }
  }

  /** Writes the bumps made during an outage to Redis; returns what was replayed, for the broadcast. */
  async replay(): Promise<Record<string, number>> {
    const replayed: Record<string, number> = {};
    for (const [tag, proposed] of this.pending) {
      const generation = this.redis ? await this.redis.run((r) => bumpIn(r, this.key(tag), proposed)) : proposed;
      this.pending.delete(tag);
      this.observe({ [tag]: generation });
      replayed[tag] = generation;
    }
    return replayed;
  }

  private async current(tag: string): Promise<number> {
    const known = this.known.get(tag);
    const redis = this.redis;
    if (known && (Date.now() - known.checkedAt < REFRESH_MS || !redis || redis.state === 'open'))
      return known.generation;
    const remote = Number(
      (await redis?.attempt(
        (r) => r.get(this.key(tag)),
        'tag-get',
        () => null,
      )) ?? 0,
    );
    const generation = Math.max(remote, known?.generation ?? 0);
    this.known.set(tag, { generation, checkedAt: Date.now() });
    return generation;
  }

  private key(tag: string): string {
    return `${this.prefix}:tagver:${tag}`;
  }
}

async function bumpIn(redis: Redis, key: string, proposed: number): Promise<number> {
  return Number(await redis.eval(BUMP_LUA, 1, key, String(proposed)));
}
