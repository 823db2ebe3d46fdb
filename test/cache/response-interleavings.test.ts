// Zero stale answers with the response cache on two instances: concurrent clients interleave 1,000
// random reads and writes of a few products through both instances. A read that starts after a write
// was acknowledged must show that write (or a later one), whichever instance serves it and whether
// it is a hit, a coalesced answer or an execution.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import type { TestGateway } from './kit.ts';
import { signIn } from '../support/kit.ts';
import { post } from './response-kit.ts';

const PRODUCTS = ['60', '61', '62'];
const ONE = 'query One($id: ID!) { product(id: $id) { id name } }';
const ALL = `query All { ${PRODUCTS.map((id) => `p${id}: product(id: "${id}") { id name }`).join(' ')} }`;
const UPDATE = 'mutation Update($id: ID!, $name: String!) { updateProduct(id: $id, input: { name: $name }) { id } }';
const OPERATIONS = 1_000;
const READERS = 8;
const WRITE_SHARE = 0.15;

let database: TestDatabase;
let instances: TestGateway[];
let admin: Record<string, string>;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: randomPrefix() };
  instances = [await startTestGateway(options), await startTestGateway(options)];
  admin = (await signIn(instances[0]!.url)).headers;
});

afterAll(async () => {
  await Promise.allSettled(instances.map((gw) => gw.stop()));
  await database?.drop();
});

const versionOf = (name: string): number => Number(/ v(\d+)$/.exec(name)?.[1] ?? 0);
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

describe('1,000 random interleavings of reads and writes on two instances', () => {
  it('serve zero stale answers', async () => {
    /** Per product: the last version whose write was acknowledged, and the next version to write. */
    const acked = new Map(PRODUCTS.map((id) => [id, 0]));
    const next = new Map(PRODUCTS.map((id) => [id, 1]));
    const writing = new Set<string>();
    const stale: string[] = [];
    const outcomes = { reads: 0, writes: 0, hits: 0 };
    let remaining = OPERATIONS;

    const write = async (id: string): Promise<void> => {
      writing.add(id);
      const version = next.get(id)!;
      next.set(id, version + 1);
      const answer = await post(
        pick(instances),
        { query: UPDATE, variables: { id, name: `Interleave ${id} v${version}` } },
        admin,
      );
      expect(answer.json.errors, answer.text).toBeUndefined();
      acked.set(id, version);
      writing.delete(id);
      outcomes.writes += 1;
    };
    const read = async (): Promise<void> => {
      const gw = pick(instances);
      const one = Math.random() < 0.7 ? pick(PRODUCTS) : undefined;
      const floors = new Map(acked);
      const answer = one ? await post(gw, { query: ONE, variables: { id: one } }) : await post(gw, { query: ALL });
      expect(answer.status, answer.text).toBe(200);
      const seen: { id: string; name: string }[] = one ? [answer.json.data.product] : Object.values(answer.json.data);
      for (const { id, name } of seen) {
        if (versionOf(name) < floors.get(id)!)
          stale.push(`${id}: got v${versionOf(name)} after v${floors.get(id)} was acknowledged (${answer.cache})`);
      }
      if (answer.cache === 'HIT') outcomes.hits += 1;
      outcomes.reads += 1;
    };
    const client = async (): Promise<void> => {
      while (remaining > 0) {
        remaining -= 1;
        const id = pick(PRODUCTS);
        // One writer per product at a time, so acknowledged versions only grow.
        if (Math.random() < WRITE_SHARE && !writing.has(id)) await write(id);
        else await read();
      }
    };
    await Promise.all(Array.from({ length: READERS }, client));
    console.log(`[response-interleavings] ${JSON.stringify(outcomes)}, stale ${stale.length}`);
    expect(outcomes.reads + outcomes.writes).toBe(OPERATIONS);
    // One writer per product at a time: slower writes (a cluster's invalidation takes more round trips)
    // mean fewer of them, about 50-75 of the 150 drawn.
    expect(outcomes.writes).toBeGreaterThan(40);
    expect(outcomes.hits, 'the cache was exercised').toBeGreaterThan(50);
    expect(stale).toEqual([]);
  }, 60_000);
});
