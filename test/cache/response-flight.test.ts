// A request that joins a lookup already under way (a flight) must not be handed an answer that a write
// purged before the request came. The leader finds the answer in Redis, then waits on its read rate limit;
// meanwhile a write purges the answer here and is acknowledged. A read sent after that acknowledgement
// joins the flight and must see the write, not the leader's find. Real Redis (one node, or the cluster in
// the `cluster` project); the rate limit is the one dependency held back by the test.
import type { HTTPGraphQLResponse } from '@apollo/server';
import { HeaderMap } from '@apollo/server';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ResponseCache } from '../../src/cache/response-cache/response-cache.ts';
import { baseKey, documentHash } from '../../src/cache/response-cache/response-key.ts';
import { ResponseStore, type StoredResponse } from '../../src/cache/response-cache/response-store.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { createMetrics } from '../../src/infra/metrics.ts';
import { RedisCircuit } from '../../src/redis/circuit-breaker.ts';
import { createRedisConnection, type Redis, waitUntilReady } from '../../src/redis/connection.ts';
import { randomPrefix } from '../support/gateway.ts';

const logger = createLogger('silent');
let connection: Redis;
let circuit: RedisCircuit;

beforeAll(async () => {
  connection = createRedisConnection({ url: inject('redisUrl'), name: 'flight-test', logger });
  expect(await waitUntilReady(connection, 5_000)).toBe(true);
  circuit = new RedisCircuit(connection, { logger });
});

afterAll(() => {
  circuit?.dispose();
  connection?.disconnect();
});

const QUERY = 'query Flight { product(id: "7") { id name } }';
const request = () => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  search: '',
  body: { query: QUERY },
  remoteAddress: '127.0.0.1',
});

function answer(name: string): StoredResponse {
  const body = JSON.stringify({ data: { product: { id: '7', name } } });
  return {
    body,
    contentType: 'application/json; charset=utf-8',
    maxAge: 600,
    grace: 0,
    freshUntil: Date.now() + 600_000,
    scope: 'public',
    deps: ['Product:7'],
  };
}

/** An instance's response cache whose read rate limit waits for `gate` when one is set. */
function instance(prefix: string) {
  const store = new ResponseStore({ redis: circuit, prefix, maxBytes: 1 << 20, metrics: createMetrics(), logger });
  let gate: Promise<void> | undefined;
  const cache = new ResponseCache({
    store,
    viewerOf: async () => null,
    consumeRead: async () => {
      await gate;
      return true;
    },
    registry: new Registry(),
  });
  return { store, cache, hold: (until: Promise<void>) => (gate = until) };
}

const bodyOf = (reply: HTTPGraphQLResponse): string => (reply.body.kind === 'complete' ? reply.body.string : 'chunked');

describe('joining a lookup under way', () => {
  it('a request that comes after a purge is not handed the answer the leader found before it', async () => {
    const prefix = randomPrefix();
    const writer = instance(prefix);
    const reader = instance(prefix);
    // The old answer is in Redis (stored by the writer instance earlier).
    const key = writer.store.key(
      baseKey({ query: QUERY, operationName: undefined, variables: {} }, documentHash(QUERY), undefined),
      'public',
    );
    const lookup = await writer.store.getRemote([key], performance.now());
    writer.store.putLocal(key, answer('old'), performance.now());
    expect(await writer.store.putRemote(key, answer('old'), lookup.seq)).toBe(true);

    let release!: () => void;
    reader.hold(new Promise<void>((resolve) => (release = resolve)));
    const executions: string[] = [];
    const execute = async (): Promise<HTTPGraphQLResponse> => {
      executions.push('new');
      const headers = new HeaderMap([['content-type', 'application/json; charset=utf-8']]);
      return { status: 200, headers, body: { kind: 'complete', string: answer('new').body } };
    };
    // The leader finds the old answer in Redis and waits on its rate limit.
    const leader = reader.cache.respond(request(), execute);
    await until(() => reader.store.size === 1);
    // The write: purged everywhere (this instance's copy and Redis) before it is acknowledged.
    await writer.store.purge(['Product:7']);
    await reader.store.purge(['Product:7']);
    // A read sent after the acknowledgement joins the leader's flight.
    const joiner = reader.cache.respond(request(), execute);
    release();
    expect(bodyOf(await leader)).toContain('old'); // it began before the write: either answer is right
    expect(bodyOf(await joiner)).toContain('new');
    expect(executions).toEqual(['new']);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}
