// The tests of WORKERS=2 (workers-local.test.ts, workers-redis.test.ts: two files, so they run side by
// side): two gateway processes on one port under one primary (src/server/cluster.ts), as `npm start`
// runs them, with Redis and without it (then the primary relays the bus and keeps the rate limits). Each
// answer names its worker (x-cachegate-worker), so a test can address both: a write through one is read
// at once on the other, a subscriber hears changes made through either, a sign-out closes the session's
// sockets on both, the rate limits count requests on both, /metrics adds them up, a plain SQL change is
// pushed once (by the change feed's leader), a killed worker is replaced and its feed leadership taken
// over, and SIGTERM drains every worker.
import { Agent, request } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabaseFromTemplate, withPg, type TestDatabase } from '../support/database.ts';
import { getFreePort } from '../support/free-port.ts';
import { isProcessAlive } from '../support/process-utils.ts';
import { randomPrefix } from '../support/gateway.ts';
import { signIn, sleep, waitUntil } from '../support/kit.ts';
import {
  logLines,
  spawnGateway,
  terminateAndExpectCleanExit,
  waitUntilReady,
  type ChildGateway,
} from './child-gateway.ts';

interface Answer {
  worker: number;
  status: number;
  body: { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

type Request = { query: string; variables?: object; headers?: Record<string, string> };

/** One POST through `agent` (a new connection unless the agent keeps one open). */
function postVia(agent: Agent | false, port: number, { query, variables = {}, headers = {} }: Request) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          worker: Number(res.headers['x-cachegate-worker']),
          status: res.statusCode ?? 0,
          body: JSON.parse(text),
        }),
      );
    });
    req.on('error', reject);
    req.setHeader('content-type', 'application/json');
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    req.end(JSON.stringify({ query, variables }));
  });
}

/** The primary hands each new connection to the next worker in turn. */
const post = (port: number, request: Request) => postVia(false, port, request);

/**
 * Sends the request to `worker`: opens connections until one reaches it (a harmless probe on each), then
 * sends the request on that connection, so a write runs once, on the worker meant.
 */
async function postTo(worker: number, port: number, request: Request): Promise<Answer> {
  for (let tries = 0; tries < 40; tries += 1) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      if ((await postVia(agent, port, { query: '{ __typename }' })).worker !== worker) continue;
      const answer = await postVia(agent, port, request);
      expect(answer.worker, 'the same connection reached another worker').toBe(worker);
      return answer;
    } finally {
      agent.destroy();
    }
  }
  throw new Error(`worker ${worker} never answered`);
}

/** The workers answering on the port, found by asking until two different ones answered. */
async function workerIds(port: number): Promise<number[]> {
  const seen = new Set<number>();
  for (let tries = 0; tries < 40 && seen.size < 2; tries += 1)
    seen.add((await post(port, { query: '{ __typename }' })).worker);
  return [...seen].sort((x, y) => x - y);
}

/** Pids of the primary's workers (its children running src/main.ts: tsx has an esbuild child too). */
function workersOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('src/main.ts');
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter(isProcessAlive);
}

const PRODUCT = 'query ($id: ID!) { product(id: $id) { id name } }';
const UPDATE = 'mutation ($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { id name } }';
const SET_STOCK = 'mutation ($id: ID!, $onHand: Int!) { setStock(productId: $id, onHand: $onHand) { onHand } }';

/** The tests of one set of two workers, with Redis or without (then the primary is what they share). */
export function describeWorkers(withRedis: boolean): void {
  describe(`WORKERS=2 ${withRedis ? 'with' : 'without'} Redis`, () => {
    let database: TestDatabase;
    let gateway: ChildGateway;
    let port: number;
    let ids: number[];
    let admin: Awaited<ReturnType<typeof signIn>>;

    beforeAll(async () => {
      database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
      port = await getFreePort();
      gateway = spawnGateway({
        WORKERS: '2',
        DATABASE_URL: database.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        CACHE_PREFIX: randomPrefix(),
        SHUTDOWN_TIMEOUT_MS: '5000',
        // Small enough to reach in a test, large enough for everything else it does.
        RATE_LIMIT_SIGNINS_PER_MINUTE: '4',
        RATE_LIMIT_IP_MULTIPLIER: '1',
        ...(withRedis && { REDIS_URL: inject('redisUrl') }),
      });
      await waitUntilReady(gateway, port, 60_000);
      // /readyz answers once the first worker listens; the set is ready when the primary says so.
      await waitUntil(
        () => logLines(gateway.stdout()).some((line) => line.msg === 'cachegate workers ready'),
        60_000,
        'both workers',
      );
      ids = await workerIds(port);
      admin = await signIn(`http://127.0.0.1:${port}/graphql`); // the first of the 4 sign-ins a minute
    }, 90_000);

    afterAll(async () => {
      if (gateway && !gateway.hasExited()) gateway.killGroup();
      await database?.drop();
    }, 30_000);

    it('a write through one worker is read at once on the other, whose cache was warm', async () => {
      expect(ids).toHaveLength(2);
      const [first, second] = ids as [number, number];
      for (const worker of ids)
        for (let i = 0; i < 2; i += 1) await postTo(worker, port, { query: PRODUCT, variables: { id: '21' } });
      const name = `Worker write ${Date.now()}`;
      const written = await postTo(first, port, {
        query: UPDATE,
        variables: { id: '21', name },
        headers: admin.headers,
      });
      expect(written.body.data?.updateProduct, JSON.stringify(written.body)).toEqual({ id: '21', name });
      const read = await postTo(second, port, { query: PRODUCT, variables: { id: '21' } });
      expect(read.body.data?.product).toEqual({ id: '21', name });
    });

    it('a subscriber hears stock changes made through either worker', async () => {
      const watcher = await watchStock(port, '22');
      try {
        for (const [i, worker] of ids.entries()) {
          const set = await postTo(worker, port, {
            query: SET_STOCK,
            variables: { id: '22', onHand: 40 + i },
            headers: admin.headers,
          });
          expect(set.body.data?.setStock, JSON.stringify(set.body)).toEqual({ onHand: 40 + i });
        }
        await waitUntil(() => watcher.heard.length >= 2, 5_000, 'both changes');
        // One push per change, each sent with the stock as it is when the push arrives (currentStock): the
        // first may already find 41 if the second write committed first. Never 40 after 41.
        expect([
          [40, 41],
          [41, 41],
        ]).toContainEqual(watcher.heard);
      } finally {
        await watcher.dispose();
      }
    });

    it('a plain SQL stock change is pushed once, by the change feed leader alone', async () => {
      await expectPushedOnce(port, database.url, '23', 77);
    });

    it('sign-in attempts are counted across both workers, and /metrics adds up the workers', async () => {
      const before = await metric(port, 'cachegate_graphql_requests_total');
      const attempt = (worker: number) =>
        postTo(worker, port, {
          query: 'mutation ($e: String!) { signIn(email: $e, password: "wrong-password-1") { token } }',
          variables: { e: `nobody-${worker}-${Math.random()}@example.test` },
        });
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 6; i += 1) codes.push((await attempt(ids[i % 2]!)).body.errors?.[0]?.extensions?.code);
      // 4 a minute for the address, one spent in beforeAll: the 4th to 6th are refused, though each worker
      // saw at most 3 of the 4.
      const refused = ['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED'];
      expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED', ...refused]);
      expect(await metric(port, 'cachegate_graphql_requests_total')).toBeGreaterThanOrEqual(before + 6);
    });

    it("a sign-out through one worker closes the session's sockets on every worker (4401)", async () => {
      const before = await metric(port, 'cachegate_subscriptions_active');
      const closes: number[] = [];
      // Four sockets one after another: the primary hands connections to the workers in turn, so both hold some.
      const clients = Array.from({ length: 4 }, () =>
        createClient({
          url: `ws://127.0.0.1:${port}/graphql`,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          lazy: false,
          onNonLazyError: () => undefined,
          connectionParams: { authorization: admin.headers.authorization },
          on: { closed: (event) => void closes.push((event as { code: number }).code) },
        }),
      );
      try {
        for (const client of clients)
          client.subscribe(
            { query: 'subscription { inventoryChanged(productId: "25") { onHand } }' },
            { next: () => undefined, error: () => undefined, complete: () => undefined },
          );
        await waitUntil(
          async () => (await metric(port, 'cachegate_subscriptions_active')) >= before + 4,
          10_000,
          'four subscriptions',
        );
        const signedOut = await post(port, { query: 'mutation { signOut }', headers: admin.headers });
        expect(signedOut.body.data, JSON.stringify(signedOut.body)).toEqual({ signOut: true });
        await waitUntil(() => closes.length === 4, 5_000, 'every socket of the session to close');
        expect(closes).toEqual([4401, 4401, 4401, 4401]);
      } finally {
        await Promise.allSettled(clients.map((client) => client.dispose()));
      }
    });

    it('a killed worker (the change feed leader) is replaced, another takes over the feed, the set keeps serving', async () => {
      const workers = workersOf(gateway.pid);
      expect(workers).toHaveLength(2);
      const leaders = () => logLines(gateway.stdout()).filter((line) => line.msg === 'change feed: leading');
      expect(leaders()).toHaveLength(1);
      const leader = leaders()[0]!.pid as number;
      expect(workers).toContain(leader);
      process.kill(leader, 'SIGKILL');
      const tookOver = await waitUntil(() => leaders().length === 2, 10_000, 'another worker leading the feed');
      console.log(`[workers] change feed taken over ${Math.round(tookOver)} ms after the leader was killed`);
      expect(leaders()[1]!.pid).not.toBe(leader);
      await expectPushedOnce(port, database.url, '24', 66);
      await waitUntil(
        () => workersOf(gateway.pid).filter((pid) => pid !== leader).length === 2,
        30_000,
        'a replacement',
      );
      await waitUntil(
        async () => (await workerIds(port)).some((id) => !ids.includes(id)),
        30_000,
        'the new worker answering',
      );
      const died = logLines(gateway.stdout()).find((line) => line.msg === 'worker died: starting a replacement');
      expect(died).toMatchObject({ level: 50, signal: 'SIGKILL' });
    }, 60_000);

    it('SIGTERM drains every worker, and the primary exits 0 after them', async () => {
      const workers = workersOf(gateway.pid);
      await terminateAndExpectCleanExit(gateway);
      expect(workers.filter(isProcessAlive)).toEqual([]);
      const done = logLines(gateway.stdout()).filter((line) => line.msg === 'shutdown complete');
      expect(done.length, 'each worker and the primary finished their shutdown').toBe(3);
    }, 30_000);
  });
}

/** A graphql-ws subscriber to one product's stock, accepted (counted by the aggregated gauge) when returned. */
async function watchStock(port: number, productId: string) {
  const before = await metric(port, 'cachegate_subscriptions_active');
  const client = createClient({ url: `ws://127.0.0.1:${port}/graphql`, webSocketImpl: WebSocket, retryAttempts: 0 });
  const heard: number[] = [];
  const stop = client.subscribe(
    { query: 'subscription ($id: ID!) { inventoryChanged(productId: $id) { onHand } }', variables: { id: productId } },
    {
      next: (message) => heard.push((message.data as any).inventoryChanged.onHand),
      error: () => {},
      complete: () => {},
    },
  );
  const dispose = async () => {
    stop();
    await client.dispose();
  };
  await waitUntil(
    async () => (await metric(port, 'cachegate_subscriptions_active')) > before,
    10_000,
    'the subscription',
  ).catch(async (error: unknown) => {
    await dispose();
    throw error;
  });
  return { heard, dispose };
}

/** A stock UPDATE in plain SQL reaches a subscriber exactly once (not once per worker). */
async function expectPushedOnce(port: number, databaseUrl: string, productId: string, onHand: number) {
  const watcher = await watchStock(port, productId);
  try {
    await withPg(databaseUrl, (c) =>
      c.query('UPDATE "Inventory" SET "onHand" = $1 WHERE "productId" = $2', [onHand, Number(productId)]),
    );
    await waitUntil(() => watcher.heard.length >= 1, 5_000, 'the pushed change');
    await sleep(500); // a second copy from another worker would arrive meanwhile
    expect(watcher.heard).toEqual([onHand]);
  } finally {
    await watcher.dispose();
  }
}

/** The sum of a metric's samples in /metrics (all labels), as the whole set reports it. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
