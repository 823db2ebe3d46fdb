// Well-formed ids that match nothing are not errors: the field is null. `me` is null without a session.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useSharedGateway } from './helpers.ts';

const gateway = useSharedGateway();

describe('unknown ids return null without errors', () => {
  const cases: [name: string, query: string][] = [
    ['product "999999"', '{ product(id: "999999") { id name } }'],
    ['category "999999"', '{ category(id: "999999") { id name } }'],
    ['a random event UUID', `{ event(id: "${randomUUID()}") { id name } }`],
    ['a random venue UUID', `{ venue(id: "${randomUUID()}") { id name } }`],
    ['postcode "00000"', '{ postcode(code: "00000") { code city } }'],
  ];
  for (const [name, query] of cases) {
    it(`${name} is null`, async () => {
      // Twice: the second answer may come from the negative cache and must be the same.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const response = await gateway().query(query);
        expect(response.status).toBe(200);
        expect(response.body.errors).toBeUndefined();
        expect(Object.values(response.body.data ?? {})).toEqual([null]);
      }
    });
  }

  it('an unknown state has no cities (an empty list, no error)', async () => {
    const response = await gateway().query('{ cities(state: "Atlantis") { name } }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { cities: [] } });
  });
});

describe('me', () => {
  it('is null without a session', async () => {
    const response = await gateway().query('{ me { id email displayName } }');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { me: null } });
  });
});
