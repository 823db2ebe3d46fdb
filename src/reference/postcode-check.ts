// Address checks against the postcode table: does the postcode exist, and do the given city and state
// belong to it. Everything comes from the cached reference loaders (7 days), so a warm check is 0 SQL.
import type { State } from '../generated/prisma/client.ts';
import { parsePostcode } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';
import type { ReferenceLoaders } from './loaders.ts';

export interface PostcodeCheckResult {
  valid: boolean;
  postcode: string;
  city: string | null;
  stateId: number | null;
  matches: boolean;
}

/** Case, surrounding and repeated spaces do not matter: "kuala  lumpur" is "Kuala Lumpur". */
function normalise(text: string): string {
  return text.trim().replace(/\s+/g, ' ').toLowerCase();
}

function optionalText(value: string | null | undefined, argumentName: string, max: number): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.length > max)
    throw new BadUserInputError(`${argumentName} must be at most ${max} characters`, argumentName);
  const text = normalise(value);
  if (!text) throw new BadUserInputError(`${argumentName} must not be blank`, argumentName);
  return text;
}

export function stateMatches(state: State, given: string): boolean {
  const wanted = normalise(given);
  return normalise(state.code) === wanted || normalise(state.name) === wanted;
}

export async function checkPostcode(
  loaders: ReferenceLoaders,
  args: { code: string; city?: string | null; state?: string | null },
): Promise<PostcodeCheckResult> {
  const code = parsePostcode(args.code.trim());
  const city = optionalText(args.city, 'city', 96);
  const stateText = optionalText(args.state, 'state', 64);
  const entry = await loaders.postcode.load(code);
  if (!entry) return { valid: false, postcode: code, city: null, stateId: null, matches: false };
  const state = await loaders.state.load(entry.stateId);
  const givenCity = city === undefined ? undefined : entry.cities.find((c) => normalise(c) === city);
  const cityOk = city === undefined || givenCity !== undefined;
  const stateOk = stateText === undefined || (state !== null && stateMatches(state, stateText));
  return {
    valid: true,
    postcode: code,
    city: givenCity ?? entry.cities[0] ?? null,
    stateId: entry.stateId,
    matches: cityOk && stateOk,
  };
}
