// validatePostcode against the malaysia-postcodes package itself (not our seed's copy of it): 600 real
// (postcode, city, state) triples check out, a city or state from elsewhere does not match, malformed
// input is BAD_USER_INPUT and a well-formed unknown code is simply not valid. shippingQuote by zone.
import { allPostcodes } from 'malaysia-postcodes';
import { describe, expect, it } from 'vitest';
import { useSharedGateway } from '../queries/helpers.ts';
import { codesOf, dataOf, gql } from './kit.ts';

const gateway = useSharedGateway();

interface Triple {
  code: string;
  city: string;
  state: string;
}

const TRIPLES: Triple[] = allPostcodes.flatMap((state) =>
  state.city.flatMap((city) => city.postcode.map((code) => ({ code, city: city.name, state: state.name }))),
);
const SAMPLE_SIZE = 600;
/** Evenly spaced triples of every state, in proportion to its size (at least 5): the same on every run. */
const SAMPLE: Triple[] = allPostcodes.flatMap((state) => {
  const own = TRIPLES.filter((t) => t.state === state.name);
  const take = Math.min(own.length, Math.max(5, Math.round((SAMPLE_SIZE * own.length) / TRIPLES.length)));
  return Array.from({ length: take }, (_, i) => own[Math.floor((i * own.length) / take)]!);
});
const KNOWN = new Set(TRIPLES.map((t) => t.code));

const CHECK_FIELDS = 'valid postcode city matches state { name code }';

interface Check {
  valid: boolean;
  postcode: string;
  city: string | null;
  matches: boolean;
  state: { name: string; code: string } | null;
}

/** 50 checks per request, as aliases. */
async function checkAll(triples: readonly Triple[]): Promise<Check[]> {
  const results: Check[] = [];
  for (let start = 0; start < triples.length; start += 50) {
    const chunk = triples.slice(start, start + 50);
    const query = `{ ${chunk
      .map(
        (t, i) =>
          `c${i}: validatePostcode(code: ${JSON.stringify(t.code)}, city: ${JSON.stringify(t.city)}, ` +
          `state: ${JSON.stringify(t.state)}) { ${CHECK_FIELDS} }`,
      )
      .join(' ')} }`;
    const data = dataOf(await gql<Record<string, Check>>(gateway().url, query));
    for (let i = 0; i < chunk.length; i += 1) results.push(data[`c${i}`]!);
  }
  return results;
}

describe('validatePostcode', () => {
  it(`accepts at least ${SAMPLE_SIZE} real postcodes with their city and state, from every state`, async () => {
    expect(SAMPLE.length).toBeGreaterThanOrEqual(SAMPLE_SIZE);
    expect(new Set(SAMPLE.map((t) => t.state)).size).toBe(allPostcodes.length);
    const checks = await checkAll(SAMPLE);
    const wrong = checks.flatMap((check, i) => {
      const t = SAMPLE[i]!;
      const ok = check.valid && check.matches && check.city === t.city && check.state?.name === t.state;
      return ok ? [] : [`${t.code} ${t.city} ${t.state}: ${JSON.stringify(check)}`];
    });
    expect(wrong).toEqual([]);
  });

  it('matches the state by code as well as by name, ignoring case and spaces', async () => {
    const t = SAMPLE[42]!;
    const { validatePostcode } = dataOf(
      await gql(
        gateway().url,
        `query ($c: String!, $city: String) {
          validatePostcode(code: $c, city: $city, state: "  ${'SBH'} ") { ${CHECK_FIELDS} }
        }`,
        { c: '88000', city: t.city.toUpperCase() },
      ),
    );
    expect(validatePostcode).toMatchObject({ valid: true, postcode: '88000', state: { code: 'SBH' } });
    const direct = dataOf(
      await gql(
        gateway().url,
        `query ($c: String!, $city: String, $s: String) {
          validatePostcode(code: $c, city: $city, state: $s) { ${CHECK_FIELDS} }
        }`,
        {
          c: t.code,
          city: `  ${t.city.toLowerCase()} `,
          s: t.state.toUpperCase(),
        },
      ),
    ).validatePostcode;
    expect(direct).toMatchObject({ valid: true, matches: true, city: t.city });
  });

  it('says matches: false for a city or a state that does not belong to the postcode', async () => {
    const here = SAMPLE[0]!;
    const elsewhere = SAMPLE.find((t) => t.state !== here.state)!;
    const [wrongCity, wrongState] = await checkAll([
      { ...here, city: elsewhere.city },
      { ...here, state: elsewhere.state },
    ]);
    expect(wrongCity).toMatchObject({ valid: true, matches: false, postcode: here.code, state: { name: here.state } });
    expect(wrongState).toMatchObject({ valid: true, matches: false, city: here.city });
  });

  it('carries the reference data TTL to HTTP caches (7 days, public), as shippingQuote does', async () => {
    for (const query of [
      '{ validatePostcode(code: "50000", city: "Kuala Lumpur") { valid matches state { name } } }',
      '{ shippingQuote(postcode: "50000", weightGrams: 900) { fee zone { code } } }',
    ]) {
      const reply = await gql(gateway().url, query);
      dataOf(reply);
      expect(reply.headers.get('cache-control'), query).toBe('max-age=604800, public');
    }
  });

  it('is not valid (no error) for a well-formed unknown postcode', async () => {
    const unknown = ['00000', '00001', '99999'].find((c) => !KNOWN.has(c))!;
    const { validatePostcode } = dataOf(
      await gql(gateway().url, `{ validatePostcode(code: "${unknown}") { ${CHECK_FIELDS} } }`),
    );
    expect(validatePostcode).toEqual({ valid: false, postcode: unknown, city: null, matches: false, state: null });
  });

  it('answers BAD_USER_INPUT for malformed input', async () => {
    for (const args of [
      { code: '1234' },
      { code: '123456' },
      { code: 'abcde' },
      { code: '5O000' },
      { code: '' },
      { code: '50000', city: 'x'.repeat(97) },
      { code: '50000', state: '   ' },
    ]) {
      const reply = await gql(
        gateway().url,
        'query ($code: String!, $city: String, $state: String) ' +
          '{ validatePostcode(code: $code, city: $city, state: $state) { valid } }',
        args,
      );
      expect(codesOf(reply), JSON.stringify(args)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('shippingQuote', () => {
  const QUOTE = `query ($p: String!, $g: Int!) {
    shippingQuote(postcode: $p, weightGrams: $g) {
      postcode zone { code } weightGrams fee currency etaDaysMin etaDaysMax
    }
  }`;
  const firstOf = (state: string): string => TRIPLES.find((t) => t.state === state)!.code;

  it('prices each zone from the zone table: the first kilogram, then each further one', async () => {
    const cases = [
      { state: 'Selangor', zone: 'PENINSULAR', fee: '6.00', fee2500: '10.00' },
      { state: 'Sabah', zone: 'SABAH', fee: '12.00', fee2500: '23.00' },
      { state: 'Sarawak', zone: 'SARAWAK', fee: '11.00', fee2500: '21.00' },
      { state: 'Wp Labuan', zone: 'LABUAN', fee: '12.50', fee2500: '23.50' },
    ];
    for (const c of cases) {
      const postcode = firstOf(c.state);
      const light = dataOf(await gql(gateway().url, QUOTE, { p: postcode, g: 800 })).shippingQuote;
      expect(light).toMatchObject({ postcode, zone: { code: c.zone }, fee: c.fee, currency: 'MYR' });
      const heavy = dataOf(await gql(gateway().url, QUOTE, { p: postcode, g: 2500 })).shippingQuote;
      expect(heavy.fee).toBe(c.fee2500);
    }
  });

  it('refuses an unknown postcode and a weight out of range', async () => {
    for (const args of [
      { p: '00000', g: 500 },
      { p: '50000', g: 0 },
      { p: '50000', g: 100_001 },
      { p: 'abc', g: 500 },
    ]) {
      expect(codesOf(await gql(gateway().url, QUOTE, args)), JSON.stringify(args)).toEqual(['BAD_USER_INPUT']);
    }
  });
});
