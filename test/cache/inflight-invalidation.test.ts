// Read-your-writes against the cross-request coalescing table: a read of PostgreSQL that started
// before a write must not be joined by a request that comes after the write. Real EntityCache, L1 and
// loader factory in single-instance mode; the data source is a controllable function, because what is
// under test is the ordering of a slow read, an invalidation and a second read, which a real database
// cannot be made to hold still for.
import { describe, expect, it } from 'vitest';
import { silentHooks } from '../../src/cache/cache-hooks.ts';
import { EntityCache } from '../../src/cache/entity-cache.ts';
import { createKeyBuilder } from '../../src/cache/keys.ts';
import { L1Cache } from '../../src/cache/l1-cache.ts';
import { createCachedLoader, createLoaderRuntime, type LoaderSpec } from '../../src/cache/loader-factory.ts';
import { createInProcessBus } from '../../src/realtime/event-bus.ts';
import { createLogger } from '../../src/infra/logger.ts';

describe('coalescing never hands out a read that a write has overtaken', () => {
  it('a request after the invalidation reads again instead of joining the older read', async () => {
    const cache = new EntityCache({
      l1: new L1Cache({ maxBytes: 1 << 20, maxTtlSeconds: 60 }),
      redis: undefined,
      bus: createInProcessBus(),
      prefix: 'inflight',
      logger: createLogger('silent'),
    });
    await cache.start();
    const runtime = createLoaderRuntime({ cache, keys: createKeyBuilder('inflight', ''), hooks: silentHooks });

    let stored = 'old';
    const reads: { release: () => void }[] = [];
    const spec: LoaderSpec<string, { name: string }> = {
      type: 'Thing',
      ttlSeconds: 60,
      idOf: String,
      missing: null,
      // Each read sees the value as it is when the read starts, and finishes only when released.
      fetch: async (ids) => {
        const seen = stored;
        await new Promise<void>((release) => reads.push({ release }));
        return new Map(ids.map((id) => [id, { name: seen }]));
      },
    };

    const first = createCachedLoader(spec, runtime, { loaderFetches: 0 }).load('1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(reads).toHaveLength(1);

    // The write: commit, then invalidate (what ProductService does).
    stored = 'new';
    await cache.invalidate([runtime.keys.entityKey('Thing', '1')]);

    const second = createCachedLoader(spec, runtime, { loaderFetches: 0 }).load('1');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(reads, 'the second request started its own read').toHaveLength(2);
    for (const r of reads) r.release();

    expect((await first)?.name).toBe('old');
    expect((await second)?.name).toBe('new');
    // And the older read did not put its value into the cache after the write.
    const third = await createCachedLoader(spec, runtime, { loaderFetches: 0 }).load('1');
    expect(third?.name).toBe('new');
    cache.stop();
  });
});
