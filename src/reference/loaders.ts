// Loaders of the Malaysian reference data: states, their cities and postcodes. Cached for 7 days.
import type DataLoader from 'dataloader';
import { createCachedLoader, createRelationLoader, type LoaderDeps, type LoaderSpec } from '../cache/loader-factory.ts';
import type { Database } from '../db/prisma.ts';
import { byId, groupBy } from '../db/rows.ts';
import type { ShippingZone, State } from '../generated/prisma/client.ts';

/** One postcode with every town it serves (a handful of codes serve two). */
export interface PostcodeEntry {
  code: string;
  cities: string[];
  stateId: number;
}

export interface CityEntry {
  name: string;
  stateId: number;
  postcodes: string[];
}

export function referenceSpecs(db: Database, ttlOf: LoaderDeps['ttlOf']) {
  return {
    states: {
      type: 'StateList',
      ttlSeconds: ttlOf('Query', 'states'),
      idOf: () => 'all',
      missing: [],
      fetch: async () => new Map([['all', await db.state.findMany({ orderBy: { name: 'asc' } })]]),
    } satisfies LoaderSpec<'all', State[]>,
    state: {
      type: 'State',
      ttlSeconds: ttlOf('State'),
      idOf: String,
      missing: null,
      fetch: async (ids) => byId(await db.state.findMany({ where: { id: { in: [...ids] } } }), (s) => s.id),
    } satisfies LoaderSpec<number, State>,
    postcode: {
      type: 'Postcode',
      ttlSeconds: ttlOf('Postcode'),
      idOf: String,
      missing: null,
      fetch: async (codes) => {
        const rows = await db.postcode.findMany({
          where: { code: { in: [...codes] } },
          orderBy: [{ code: 'asc' }, { city: 'asc' }],
        });
        const entries = new Map<string, PostcodeEntry>();
        for (const [code, group] of groupBy(rows, (r) => r.code))
          entries.set(code, { code, cities: group.map((r) => r.city), stateId: group[0]!.stateId });
        return entries;
      },
    } satisfies LoaderSpec<string, PostcodeEntry>,
    citiesOfState: {
      type: 'State.cities',
      ttlSeconds: ttlOf('State', 'cities'),
      idOf: String,
      missing: [],
      fetch: async (stateIds) => {
        const rows = await db.postcode.findMany({
          where: { stateId: { in: [...stateIds] } },
          orderBy: [{ city: 'asc' }, { code: 'asc' }],
        });
        const result = new Map<string, CityEntry[]>();
        for (const [stateId, stateRows] of groupBy(rows, (r) => r.stateId)) {
          result.set(
            stateId,
            [...groupBy(stateRows, (r) => r.city)].map(([name, cityRows]) => ({
              name,
              stateId: Number(stateId),
              postcodes: cityRows.map((r) => r.code),
            })),
          );
        }
        return result;
      },
    } satisfies LoaderSpec<number, CityEntry[]>,
    /** The four shipping zones with their rates (a handful of rows). */
    shippingZones: {
      type: 'ShippingZoneList',
      ttlSeconds: ttlOf('ShippingZone'),
      idOf: () => 'all',
      missing: [],
      fetch: async () => new Map([['all', await db.shippingZone.findMany({ orderBy: { id: 'asc' } })]]),
    } satisfies LoaderSpec<'all', ShippingZone[]>,
  };
}

export type ReferenceSpecs = ReturnType<typeof referenceSpecs>;

export interface ReferenceLoaders {
  states: DataLoader<'all', State[], string>;
  state: DataLoader<number, State | null, string>;
  postcode: DataLoader<string, PostcodeEntry | null, string>;
  citiesOfState: DataLoader<number, CityEntry[], string>;
  shippingZones: DataLoader<'all', ShippingZone[] | null, string>;
}

export function createReferenceLoaders(specs: ReferenceSpecs, deps: LoaderDeps): ReferenceLoaders {
  return {
    states: createRelationLoader(specs.states, deps.runtime, deps.stats),
    state: createCachedLoader(specs.state, deps.runtime, deps.stats),
    postcode: createCachedLoader(specs.postcode, deps.runtime, deps.stats),
    citiesOfState: createRelationLoader(specs.citiesOfState, deps.runtime, deps.stats),
    shippingZones: createCachedLoader(specs.shippingZones, deps.runtime, deps.stats),
  };
}
