// Limits that need their own configuration: the execution-time budget (QUERY_MAX_EXECUTION_MS, here
// 1 ms, so ordinary listings run out of it) answers OPERATION_TIMEOUT with a code while /healthz stays
// fast; and NODE_ENV=production refuses to start without KEY_HASH_SECRET, in one line.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { sqlRows } from '../accounts/kit.ts';
import { getFreePort } from '../support/free-port.ts';
import { exitWithin, spawnGateway } from '../server/child-gateway.ts';
import { codes, post, startProductionGateway, underAttack, type ProductionGateway } from './attack-kit.ts';

let gw: ProductionGateway;
let eventId: string;

beforeAll(async () => {
  gw = await startProductionGateway(inject('adminDatabaseUrl'), inject('templateDatabase'), inject('redisUrl'), {
    QUERY_MAX_EXECUTION_MS: '1',
  });
  const rows = await sqlRows<{ id: string }>(gw.database.url, 'SELECT id FROM "Event" ORDER BY capacity DESC LIMIT 1');
  eventId = rows[0]!.id;
}, 90_000);

afterAll(async () => {
  await gw?.stop();
});

describe('execution-time budget', () => {
  it('an operation past QUERY_MAX_EXECUTION_MS stops with OPERATION_TIMEOUT (a listing, a seat map)', async () => {
    const base = gw.base;
    for (const query of [
      '{ products(first: 100, sort: PRICE_DESC) { nodes { id name price { amount } ' +
        'category { name } inventory { available } } } }',
      `{ event(id: "${eventId}") { seats { id section row number price status } sections { name available } } }`,
      // Sibling fields that fail on their own (an anonymous member price is FORBIDDEN) in the branches
      // graphql-js abandons when the budget runs out: their late rejections must not end the process.
      '{ products(first: 100) { nodes { id name price(tier: GOLD) { amount } inventory { available } } } }',
    ]) {
      // Once to warm the instance (first-time query plans and code paths), as a serving instance is.
      await post(gw.url, { query });
      const { result, healthMs } = await underAttack(base, () => post(gw.url, { query }));
      expect(healthMs).toBeLessThan(100);
      expect(result.status).toBeLessThan(500);
      expect(codes(result), result.text.slice(0, 300)).toContain('OPERATION_TIMEOUT');
      expect(codes(result)).not.toContain('INTERNAL_SERVER_ERROR');
    }
  });
});

describe('KEY_HASH_SECRET in production', () => {
  it('is required by the configuration', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(
      'invalid configuration: KEY_HASH_SECRET must be set when NODE_ENV=production',
    );
    expect(loadConfig({ NODE_ENV: 'production', KEY_HASH_SECRET: 'x'.repeat(16) }).keyHashSecret).toBe('x'.repeat(16));
  });

  it('without it, the gateway does not start and says why in one line', { timeout: 30_000 }, async () => {
    const child = spawnGateway({
      NODE_ENV: 'production',
      DATABASE_URL: inject('databaseUrl'),
      PORT: String(await getFreePort()),
      HOST: '127.0.0.1',
    });
    const exit = await exitWithin(child, 20_000);
    if (!exit) child.killGroup();
    expect(exit?.code).not.toBe(0);
    const lines = child
      .stderr()
      .split('\n')
      .filter((l) => l.trim());
    expect(lines, child.stderr()).toHaveLength(1);
    expect(lines[0]).toMatch(/KEY_HASH_SECRET must be set when NODE_ENV=production/);
  });
});
