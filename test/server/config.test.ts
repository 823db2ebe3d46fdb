// A bad environment variable stops the start with exit code 1 and one line on stderr naming the
// variable; the gateway never runs half-configured, so nothing listens.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../support/free-port.ts';
import { isPortOpen } from '../support/process-utils.ts';
import { failedStartLine, spawnGateway, type ChildGateway } from './child-gateway.ts';

const started: ChildGateway[] = [];
let scratch: string;

beforeAll(async () => {
  // Should a bad value ever be accepted, the embedded database would land here, not in the repository.
  scratch = await mkdtemp(join(tmpdir(), 'cachegate-config-test-'));
});

afterAll(async () => {
  for (const gateway of started) gateway.killGroup();
  await rm(scratch, { recursive: true, force: true });
});

const cases: [variable: string, value: string][] = [
  ['PORT', 'abc'],
  ['DATABASE_URL', 'mysql://x'],
  ['LOG_LEVEL', 'loud'],
];

describe.concurrent('invalid configuration', () => {
  for (const [variable, value] of cases) {
    it(`${variable}=${value} exits with code 1 and one stderr line naming ${variable}; nothing listens`, async () => {
      const port = await getFreePort();
      const embeddedPort = await getFreePort();
      const gateway = spawnGateway({
        PORT: String(port),
        EMBEDDED_PG_DIR: join(scratch, variable),
        EMBEDDED_PG_PORT: String(embeddedPort),
        SEED_SCALE: 'small',
        LOG_LEVEL: 'info',
        [variable]: value,
      });
      started.push(gateway);
      expect(await failedStartLine(gateway, 20_000)).toContain(variable);
      expect(gateway.stdout()).toBe('');
      expect(await isPortOpen(port)).toBe(false);
      expect(await isPortOpen(embeddedPort)).toBe(false);
    }, 30_000);
  }
});
