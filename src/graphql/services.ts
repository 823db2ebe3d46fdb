// Write-side services handed to resolvers through the context. Created once at start-up.
import type { EventBus } from '../realtime/event-bus.ts';
import type { Database } from '../db/prisma.ts';
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';

export interface Services {
  db: Database;
  bus: EventBus;
  cache: EntityCache;
  keys: KeyBuilder;
}
