// Waiting, shared by the harness (which runs outside vitest's workers too) and the tests through kit.ts.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls until `check` is true; returns the ms it took. After `timeoutMs` it throws, naming `what` (or
 * the message `what()` builds, e.g. from a server's log).
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string | (() => Promise<string>),
  stepMs = 20,
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) {
      throw new Error(typeof what === 'string' ? `timed out after ${timeoutMs} ms waiting for ${what}` : await what());
    }
    await sleep(stepMs);
  }
  return performance.now() - started;
}
