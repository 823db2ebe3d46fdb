// Fixtures written straight to PostgreSQL reach the gateways' caches through the change feed
// (src/db/change-feed.ts), a moment later. A test that counts SQL or messages after such a fixture
// waits for those invalidations to have landed first, or they would arrive in the middle of what it
// measures.
import type { Gateway } from '../../src/server/app.ts';
import { waitUntil } from './wait.ts';

const QUIET_MS = 150;

/** Runs `write`, then waits until every gateway has heard an invalidation and none for QUIET_MS. */
export async function afterChangesSettle<T>(gateways: readonly Gateway[], write: () => Promise<T>): Promise<T> {
  const heard = gateways.map(() => ({ count: 0, at: 0 }));
  const stops = gateways.map((gateway, i) =>
    gateway.cache.onInvalidate(() => {
      heard[i]!.count += 1;
      heard[i]!.at = performance.now();
    }),
  );
  try {
    const result = await write();
    await waitUntil(
      () => heard.every((h) => h.count > 0 && performance.now() - h.at >= QUIET_MS),
      10_000,
      'the change feed to deliver the fixture to every gateway',
    );
    return result;
  } finally {
    for (const stop of stops) stop();
  }
}
