// Fixtures written straight to PostgreSQL reach the gateways' caches through the change feed
// (src/db/change-feed.ts), a moment later. A test that counts SQL or messages after such a fixture
// waits for those invalidations to have landed first, or they would arrive in the middle of what it
// measures.
import { SECOND_DELETE_DELAY_MS } from '../../src/cache/invalidation.ts';
import type { Gateway } from '../../src/server/app.ts';
import { waitUntil } from './wait.ts';

// Every invalidation is repeated once after SECOND_DELETE_DELAY_MS (a backstop against late fills): quiet
// means past that repeat too, or it would land in the middle of what the test measures.
const QUIET_MS = SECOND_DELETE_DELAY_MS + 250;

/**
 * Runs `write`, then waits until every gateway has heard the invalidations it caused (all of them when
 * `heardAll` says which keys to expect; else at least one) and none for QUIET_MS.
 */
export async function afterChangesSettle<T>(
  gateways: readonly Gateway[],
  write: () => Promise<T>,
  heardAll?: (keys: readonly string[], written: T) => boolean,
): Promise<T> {
  const heard = gateways.map(() => ({ keys: [] as string[], count: 0, at: 0 }));
  const stops = gateways.map((gateway, i) =>
    gateway.cache.onInvalidate(({ keys }) => {
      const mine = heard[i]!;
      mine.keys.push(...keys);
      mine.count += 1;
      mine.at = performance.now();
    }),
  );
  try {
    const written = await write();
    await waitUntil(
      () =>
        heard.every(
          (h) => h.count > 0 && (heardAll?.(h.keys, written) ?? true) && performance.now() - h.at >= QUIET_MS,
        ),
      10_000,
      'the change feed to deliver the fixture to every gateway',
    );
    return written;
  } finally {
    for (const stop of stops) stop();
  }
}
