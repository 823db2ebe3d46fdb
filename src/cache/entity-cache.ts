// The shared cache under the per-request DataLoaders: one object that services and loaders hold, made of
//   layered-store.ts      the read/write path, L1 then Redis
//   fill-coordinator.ts   which instance fills a key from PostgreSQL, and waiting for the others' fills
//   invalidation.ts       deletes on every instance, the second delete, tag purges, the replay queue
//   tag-generations.ts    the generations that file lists and counts
// The loader factory (loader-factory.ts) calls getMany once per batch and setMany once for what it had
// to read from PostgreSQL; services call invalidate and invalidateTags after their writes commit.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../infra/logger.ts';
import type { EventBus } from '../realtime/event-bus.ts';
import type { RedisCircuit } from '../redis/circuit-breaker.ts';
import { type CacheHooks, silentHooks } from './cache-hooks.ts';
import { FillCoordinator } from './fill-coordinator.ts';
import { Invalidation, type InvalidationListener } from './invalidation.ts';
import { InvalidationSequence } from './invalidation-sequence.ts';
import { InvalidationStamps } from './invalidation-stamps.ts';
import type { L1Cache } from './l1-cache.ts';
import { type CacheEntry, type CacheWrite, LayeredStore } from './layered-store.ts';
import { TagGenerations } from './tag-generations.ts';

export type { CacheEntry, CacheWrite } from './layered-store.ts';
export { INVALIDATION_TOPIC, type Invalidated, type InvalidationListener } from './invalidation.ts';

export interface EntityCacheDeps {
  l1: L1Cache;
  /** Absent in single-instance mode (no REDIS_URL). */
  redis: RedisCircuit | undefined;
  bus: EventBus;
  prefix: string;
  /** Lookup counts; the composition root wires them to the metrics. */
  hooks?: CacheHooks;
  logger: Logger;
}

export class EntityCache {
  readonly instanceId = randomUUID();
  private readonly stamps = new InvalidationStamps();
  private readonly sequence = new InvalidationSequence();
  private readonly store: LayeredStore;
  private readonly fills: FillCoordinator;
  private readonly tags: TagGenerations;
  private readonly invalidation: Invalidation;

  constructor(private readonly deps: EntityCacheDeps) {
    const { l1, redis, bus, prefix } = deps;
    const hooks = deps.hooks ?? silentHooks;
    this.store = new LayeredStore({ l1, redis, stamps: this.stamps, sequence: this.sequence, hooks });
    this.fills = new FillCoordinator(redis, this.store, hooks);
    this.tags = new TagGenerations(redis, prefix);
    const logger = deps.logger.child({ component: 'entity-cache' });
    const { instanceId, stamps, sequence, tags } = this;
    this.invalidation = new Invalidation({ instanceId, l1, redis, bus, prefix, stamps, sequence, tags, logger });
  }

  /**
   * Listens for other instances' invalidations; called once at start-up. Resolves once subscribed; with
   * Redis down at start that is whenever it comes back, so callers cap the wait and serve meanwhile.
   */
  start(): Promise<void> {
    return this.invalidation.start();
  }

  stop(): void {
    this.invalidation.stop();
  }

  /**
   * Registers a listener called after every invalidation, local or remote (the response cache drops the
   * answers built from what it names); returns its removal.
   */
  onInvalidate(listener: InvalidationListener): () => void {
    return this.invalidation.onInvalidate(listener);
  }

  /** One lookup per key, in order: undefined for a miss in both layers. */
  getMany(type: string, keys: readonly string[], ttlSeconds: number): Promise<(CacheEntry | undefined)[]> {
    return this.store.getMany(type, keys, ttlSeconds);
  }

  /** Writes fills to both layers, except those invalidated since `fillStartedAt` (from fillStarted). */
  setMany(writes: readonly CacheWrite[], fillStartedAt: number): Promise<void> {
    return this.store.setMany(writes, fillStartedAt);
  }

  /** Call before reading PostgreSQL for a fill; pass the result to setMany. */
  fillStarted(): number {
    return this.stamps.now();
  }

  /** Whether the key was invalidated at or after `since` (a fillStarted time): its read is stale. */
  invalidatedSince(key: string, since: number): boolean {
    return this.stamps.since(key, since);
  }

  /** See fill-coordinator.ts: true where this instance fills the key, false where another one does. */
  claimFills(keys: readonly string[]): Promise<boolean[]> {
    return this.fills.claimFills(keys);
  }

  releaseFills(keys: readonly string[]): Promise<void> {
    return this.fills.releaseFills(keys);
  }

  awaitFills(type: string, keys: readonly string[], ttlSeconds: number): Promise<(CacheEntry | undefined)[]> {
    return this.fills.awaitFills(type, keys, ttlSeconds);
  }

  /** The key part that files an entry under tags (their current generations): see tag-generations.ts. */
  tagKeyPart(tags: readonly string[]): Promise<string> {
    return this.tags.keyPart(tags);
  }

  /**
   * Drops keys everywhere: this L1, Redis, and (through the bus) every other instance's L1. Keys that
   * are never in any L1 (sessions) pass `broadcast: false`: there is nothing to tell the others.
   */
  invalidate(keys: readonly string[], options: { broadcast?: boolean } = {}): Promise<void> {
    return this.invalidation.invalidate(keys, options.broadcast ?? true);
  }

  /**
   * Drops every entry filed under the tags (e.g. every product list and count), on every instance: the
   * tags move to new generations, so every later lookup uses new keys.
   */
  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.invalidation.invalidateTags(tags);
  }

  /** This instance's cache state, for the admin view. */
  stats(): { l1Entries: number; l1Bytes: number; redisCircuit: 'closed' | 'open' | null } {
    return { l1Entries: this.deps.l1.size, l1Bytes: this.deps.l1.bytes, redisCircuit: this.deps.redis?.state ?? null };
  }
}
