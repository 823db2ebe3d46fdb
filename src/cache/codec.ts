// Serialises cached values so they round-trip exactly: Prisma Decimals stay Decimals (never floats),
// Dates stay Dates, BigInts stay BigInts, nulls stay nulls. Tagged JSON: {"$d":"12.50"}, {"$t":"…"}, {"$n":"…"}.
import { Decimal } from '@prisma/client/runtime/client';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function encodeValue(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return { $t: value.toISOString() };
  if (Decimal.isDecimal(value)) return { $d: (value as Decimal).toString() };
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (Array.isArray(value)) return value.map(encodeValue);
  if (typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) out[key] = encodeValue(inner);
    return out;
  }
  return value as Json;
}

function decodeValue(value: Json): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(decodeValue);
  const keys = Object.keys(value);
  if (keys.length === 1) {
    if (typeof value.$t === 'string') return new Date(value.$t);
    if (typeof value.$d === 'string') return new Decimal(value.$d);
    if (typeof value.$n === 'string') return BigInt(value.$n);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) out[key] = decodeValue(value[key]!);
  return out;
}

export function encode(value: unknown): string {
  return JSON.stringify(encodeValue(value));
}

export function decode<T>(text: string): T {
  return decodeValue(JSON.parse(text) as Json) as T;
}
