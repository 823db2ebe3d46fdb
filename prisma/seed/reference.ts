// Malaysian states and postcodes, straight from the `malaysia-postcodes` package so that the names stored
// here are spelled exactly as the package spells them (the gateway's postcode lookups compare against it).
import { allPostcodes } from 'malaysia-postcodes';
import type pg from 'pg';
import { bulkInsert, resetSerial } from './bulk.ts';

/** Short codes for the 13 states and 3 federal territories, keyed by the package's state name. */
const STATE_CODES: Readonly<Record<string, string>> = {
  Johor: 'JHR',
  Kedah: 'KDH',
  Kelantan: 'KTN',
  Melaka: 'MLK',
  'Negeri Sembilan': 'NSN',
  Pahang: 'PHG',
  'Pulau Pinang': 'PNG',
  Perak: 'PRK',
  Perlis: 'PLS',
  Sabah: 'SBH',
  Sarawak: 'SWK',
  Selangor: 'SGR',
  Terengganu: 'TRG',
  'Wp Kuala Lumpur': 'KUL',
  'Wp Putrajaya': 'PJY',
  'Wp Labuan': 'LBN',
};

/** Parcel rates by zone (MYR), in the shape of the national courier's published domestic tariff. */
export const SHIPPING_ZONES = [
  {
    id: 1,
    code: 'PENINSULAR',
    name: 'Peninsular Malaysia',
    firstKgFee: '6.00',
    extraKgFee: '2.00',
    etaDaysMin: 1,
    etaDaysMax: 3,
  },
  { id: 2, code: 'SABAH', name: 'Sabah', firstKgFee: '12.00', extraKgFee: '5.50', etaDaysMin: 3, etaDaysMax: 6 },
  { id: 3, code: 'SARAWAK', name: 'Sarawak', firstKgFee: '11.00', extraKgFee: '5.00', etaDaysMin: 3, etaDaysMax: 6 },
  { id: 4, code: 'LABUAN', name: 'Labuan', firstKgFee: '12.50', extraKgFee: '5.50', etaDaysMin: 4, etaDaysMax: 7 },
] as const;

/** East Malaysian states by code; every other state is in Peninsular Malaysia. */
const ZONE_OF_STATE: Readonly<Record<string, number>> = { SBH: 2, SWK: 3, LBN: 4 };

export interface StateRow {
  id: number;
  code: string;
  name: string;
  shippingZoneId: number;
}

export interface PostcodeRow {
  id: number;
  code: string;
  city: string;
  stateId: number;
}

export interface ReferencePlan {
  states: StateRow[];
  postcodes: PostcodeRow[];
}

/** Plain code-unit comparison: unlike localeCompare it cannot vary with the machine's ICU data. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function codeForState(name: string): string {
  const code = STATE_CODES[name];
  // A new package version that renames a state must fail loudly, not seed a state without a code.
  if (!code) throw new Error(`malaysia-postcodes has a state with no code mapping: ${JSON.stringify(name)}`);
  return code;
}

export function planReference(): ReferencePlan {
  const states = allPostcodes
    .map((s) => s.name)
    .sort(compareText)
    .map((name, i) => {
      const code = codeForState(name);
      return { id: i + 1, code, name, shippingZoneId: ZONE_OF_STATE[code] ?? 1 };
    });
  const stateIdByName = new Map(states.map((s) => [s.name, s.id]));

  // One row per (code, city); the package could list a pair twice, the table is unique on it.
  const byKey = new Map<string, Omit<PostcodeRow, 'id'>>();
  for (const state of allPostcodes) {
    const stateId = stateIdByName.get(state.name) ?? 0;
    for (const city of state.city) {
      for (const code of city.postcode) byKey.set(`${code}|${city.name}`, { code, city: city.name, stateId });
    }
  }
  const postcodes = [...byKey.values()]
    .sort((a, b) => compareText(a.code, b.code) || compareText(a.city, b.city))
    .map((p, i) => ({ id: i + 1, ...p }));
  return { states, postcodes };
}

export async function insertReference(client: pg.ClientBase, plan: ReferencePlan): Promise<void> {
  await bulkInsert(
    client,
    'ShippingZone',
    {
      id: 'int',
      code: 'text',
      name: 'text',
      firstKgFee: 'numeric',
      extraKgFee: 'numeric',
      etaDaysMin: 'int',
      etaDaysMax: 'int',
    },
    SHIPPING_ZONES,
  );
  await bulkInsert(client, 'State', { id: 'int', code: 'text', name: 'text', shippingZoneId: 'int' }, plan.states);
  await bulkInsert(client, 'Postcode', { id: 'int', code: 'text', city: 'text', stateId: 'int' }, plan.postcodes);
  await resetSerial(client, 'ShippingZone');
  await resetSerial(client, 'State');
  await resetSerial(client, 'Postcode');
}
