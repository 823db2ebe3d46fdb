// Shipping quotes from the zone table: a postcode's state decides the zone (Peninsular Malaysia, Sabah,
// Sarawak, Labuan); the fee is the zone's first-kilogram fee plus its fee for each further kilogram or
// part of one. Zones, states and postcodes all come from the cached reference loaders.
import type { Decimal } from '@prisma/client/runtime/client';
import { Prisma, type ShippingZone } from '../generated/prisma/client.ts';
import { parsePostcode } from '../graphql/arguments.ts';
import { BadUserInputError } from '../infra/errors.ts';
import type { ReferenceLoaders } from './loaders.ts';

export const MAX_PARCEL_GRAMS = 100_000;

export interface ShippingQuoteResult {
  postcode: string;
  zone: ShippingZone;
  weightGrams: number;
  fee: Decimal;
  currency: string;
  etaDaysMin: number;
  etaDaysMax: number;
}

export function shippingFee(zone: ShippingZone, weightGrams: number): Decimal {
  const kilograms = Math.max(1, Math.ceil(weightGrams / 1000));
  return new Prisma.Decimal(zone.firstKgFee).add(new Prisma.Decimal(zone.extraKgFee).mul(kilograms - 1));
}

/** The zone a postcode ships to; null for a postcode that does not exist. */
export async function zoneOfPostcode(loaders: ReferenceLoaders, code: string): Promise<ShippingZone | null> {
  const entry = await loaders.postcode.load(code);
  if (!entry) return null;
  const [state, zones] = await Promise.all([loaders.state.load(entry.stateId), loaders.shippingZones.load('all')]);
  const zone = zones?.find((z) => z.id === state?.shippingZoneId);
  if (!zone) throw new Error(`state ${entry.stateId} has no shipping zone`);
  return zone;
}

export async function quoteShipping(
  loaders: ReferenceLoaders,
  postcode: string,
  weightGrams: number,
): Promise<ShippingQuoteResult> {
  const code = parsePostcode(postcode.trim());
  if (!Number.isInteger(weightGrams) || weightGrams < 1 || weightGrams > MAX_PARCEL_GRAMS)
    throw new BadUserInputError(`weightGrams must be 1 to ${MAX_PARCEL_GRAMS}`, 'weightGrams');
  const zone = await zoneOfPostcode(loaders, code);
  if (!zone) throw new BadUserInputError('postcode does not exist', 'postcode');
  return {
    postcode: code,
    zone,
    weightGrams,
    fee: shippingFee(zone, weightGrams),
    currency: 'MYR',
    etaDaysMin: zone.etaDaysMin,
    etaDaysMax: zone.etaDaysMax,
  };
}
