// The Malaysian reference data answers from the seeded PostgreSQL: postcode, states and cities.
import { describe, expect, it } from 'vitest';
import { useSharedGateway, useSql } from './helpers.ts';
import { dataOf } from '../support/kit.ts';

const gateway = useSharedGateway();
const sql = useSql();

interface CitiesData {
  cities: { name: string; postcodes: string[]; state: { code: string } }[];
}

const CITIES = 'query ($state: String!) { cities(state: $state) { name postcodes state { code } } }';

describe('postcode(code)', () => {
  it("postcode('50000') is in Kuala Lumpur, state KUL", async () => {
    const data = dataOf(
      await gateway().query<{
        postcode: { code: string; city: string; cities: string[]; state: { code: string; name: string } } | null;
      }>('{ postcode(code: "50000") { code city cities state { code name } } }'),
    );
    const [state] = await sql<{ name: string }>(`SELECT name FROM "State" WHERE code = 'KUL'`);
    expect(data.postcode).toEqual({
      code: '50000',
      city: 'Kuala Lumpur',
      cities: ['Kuala Lumpur'],
      state: { code: 'KUL', name: state?.name },
    });
  });

  it('a postcode serving several towns lists all of them, city being the first by name', async () => {
    const [shared] = await sql<{ code: string; cities: string[] }>(`
      SELECT code, array_agg(city ORDER BY city) AS cities FROM "Postcode"
      GROUP BY code HAVING count(*) > 1 ORDER BY code LIMIT 1`);
    if (!shared) return; // the data release has no shared postcode: nothing to check
    const data = dataOf(
      await gateway().query<{ postcode: { city: string; cities: string[] } | null }>(
        'query ($code: String!) { postcode(code: $code) { city cities } }',
        { code: shared.code },
      ),
    );
    expect(data.postcode?.cities.slice().sort()).toEqual(shared.cities.slice().sort());
    expect(data.postcode?.city).toBe(data.postcode?.cities[0]);
  });
});

describe('states', () => {
  it('returns all 16 states and federal territories with the names in PostgreSQL', async () => {
    const rows = await sql<{ id: number; code: string; name: string }>('SELECT id, code, name FROM "State"');
    const data = dataOf(
      await gateway().query<{ states: { id: string; code: string; name: string }[] }>('{ states { id code name } }'),
    );
    expect(data.states).toHaveLength(16);
    const byCode = (a: { code: string }, b: { code: string }): number => a.code.localeCompare(b.code);
    expect(data.states.slice().sort(byCode)).toEqual(
      rows.map((r) => ({ id: String(r.id), code: r.code, name: r.name })).sort(byCode),
    );
  });
});

describe('cities(state)', () => {
  it("cities(state: 'KUL') lists the cities of Kuala Lumpur with their postcodes, as in PostgreSQL", async () => {
    const rows = await sql<{ city: string; codes: string[] }>(`
      SELECT p.city, array_agg(p.code ORDER BY p.code) AS codes
      FROM "Postcode" p JOIN "State" s ON s.id = p."stateId" WHERE s.code = 'KUL' GROUP BY p.city`);
    const data = dataOf(await gateway().query<CitiesData>(CITIES, { state: 'KUL' }));
    expect(data.cities.length).toBeGreaterThan(0);
    expect(data.cities.map((c) => c.name).sort()).toEqual(rows.map((r) => r.city).sort());
    for (const city of data.cities) {
      expect(city.state.code).toBe('KUL');
      expect(city.postcodes.length).toBeGreaterThan(0);
      expect(city.postcodes.slice().sort()).toEqual(rows.find((r) => r.city === city.name)?.codes);
    }
    expect(data.cities.find((c) => c.name === 'Kuala Lumpur')?.postcodes).toContain('50000');
  });

  it("cities(state: 'Selangor') finds the state by name", async () => {
    const [expected] = await sql<{ n: number }>(`
      SELECT count(DISTINCT p.city)::int AS n FROM "Postcode" p
      JOIN "State" s ON s.id = p."stateId" WHERE s.name = 'Selangor'`);
    const data = dataOf(await gateway().query<CitiesData>(CITIES, { state: 'Selangor' }));
    expect(data.cities.length).toBeGreaterThan(0);
    expect(data.cities).toHaveLength(expected?.n ?? -1);
    for (const city of data.cities) {
      expect(city.state.code).toBe('SGR');
      expect(city.postcodes.length).toBeGreaterThan(0);
      for (const code of city.postcodes) expect(code).toMatch(/^\d{5}$/);
    }
  });

  it('State.cities answers the same as cities(state)', async () => {
    const viaStates = dataOf(
      await gateway().query<{ states: { code: string; cities: { name: string }[] }[] }>(
        '{ states { code cities { name } } }',
      ),
    );
    const viaQuery = dataOf(await gateway().query<CitiesData>(CITIES, { state: 'KUL' }));
    expect(viaStates.states.find((s) => s.code === 'KUL')?.cities.map((c) => c.name)).toEqual(
      viaQuery.cities.map((c) => c.name),
    );
    for (const state of viaStates.states) expect(state.cities.length, state.code).toBeGreaterThan(0);
  });
});
