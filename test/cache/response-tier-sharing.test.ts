// Member-tier sharing end to end (real Redis and PostgreSQL): Product.price reads the viewer's tier
// from the session through the response recorder, so an answer with member prices is stored under
// tier=<T> and shared by every member of that tier, never by another tier or anonymous visitors; an
// answer with a PRIVATE field is never stored at all. test/cache/response-scope.test.ts covers the
// scope rules at unit level.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway } from '../support/gateway.ts';
import { rawRedis } from '../support/kit.ts';
import { createShoppers, type Shopper } from '../support/shoppers.ts';
import type { TestGateway } from './kit.ts';
import { post, resolverCounter, storedAnswers } from './response-kit.ts';

const PRICED = 'query Priced($id: ID!) { product(id: $id) { id name price { tier amount isMemberPrice } } }';
const WITH_ME = 'query PricedMe($id: ID!) { me { id email } product(id: $id) { id price { tier amount } } }';

let database: TestDatabase;
let prefix: string;
let a: TestGateway;
let b: TestGateway;
const counter = resolverCounter();
const redis = rawRedis(inject('redisUrl'));
let gold: Shopper[];
let silver: Shopper;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  prefix = randomPrefix();
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: prefix };
  a = await startTestGateway({ ...options, plugins: [counter.plugin] });
  b = await startTestGateway({ ...options, plugins: [counter.plugin] });
  await redis.connect();
  gold = await createShoppers(database.url, 2, 'GOLD');
  [silver] = (await createShoppers(database.url, 1, 'SILVER')) as [Shopper];
});

afterAll(async () => {
  redis.disconnect();
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
});

const priced = (gw: TestGateway, id: string, shopper?: Shopper) =>
  post(gw, { query: PRICED, variables: { id } }, shopper?.headers ?? {});

describe('member-tier sharing', () => {
  it('two members of a tier share one stored answer with member prices; no resolver runs for the second', async () => {
    const first = await priced(a, '40', gold[0]);
    expect(first.cache).toBe('MISS');
    expect(first.json.data.product.price).toMatchObject({ tier: 'GOLD', isMemberPrice: true });
    const stored = await storedAnswers(redis, prefix);
    expect(stored.some((key) => key.endsWith(':tier=GOLD'))).toBe(true);
    counter.reset();
    const second = await priced(a, '40', gold[1]);
    expect(second.cache).toBe('HIT');
    expect(second.text).toBe(first.text);
    expect(second.cacheControl).toMatch(/private/); // never for shared HTTP caches
    expect(counter.calls).toBe(0);
    // The other instance takes it from Redis, also without executing.
    expect((await priced(b, '40', gold[1])).cache).toBe('HIT');
    expect(counter.calls).toBe(0);
  });

  it('a member of another tier and an anonymous visitor never get it', async () => {
    const goldAnswer = await priced(a, '41', gold[0]);
    for (const gw of [a, b]) {
      const other = await priced(gw, '41', silver);
      expect(other.json.data.product.price).toMatchObject({ tier: 'SILVER', isMemberPrice: true });
      expect(other.text).not.toBe(goldAnswer.text);
      const anonymous = await priced(gw, '41');
      expect(anonymous.json.data.product.price).toMatchObject({ tier: 'REGULAR', isMemberPrice: false });
      expect(anonymous.text).not.toBe(goldAnswer.text);
    }
    // Each tier got its own stored answer, and each is shared within its tier only.
    expect((await priced(b, '41', gold[1])).text).toBe(goldAnswer.text);
    expect((await priced(b, '41', silver)).cache).toBe('HIT');
  });

  it('an answer with a PRIVATE field beside member prices is never stored nor shared', async () => {
    const before = await storedAnswers(redis, prefix);
    const answers = [];
    for (const shopper of [gold[0]!, gold[1]!, gold[0]!]) {
      const answer = await post(a, { query: WITH_ME, variables: { id: '42' } }, shopper.headers);
      expect(answer.cache).toBeNull();
      expect(answer.json.data.me.id).toBe(shopper.userId);
      answers.push(answer);
    }
    expect(answers[0]!.text).not.toBe(answers[1]!.text);
    expect(await storedAnswers(redis, prefix)).toEqual(before);
    // And nothing stored for the tier carries a member's id.
    const bodies = await Promise.all(before.map((key) => redis.get(key)));
    for (const shopper of [...gold, silver]) expect(bodies.join('\n')).not.toContain(shopper.userId);
  });
});
