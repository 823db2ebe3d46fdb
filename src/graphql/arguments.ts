// Validation of arguments the schema's types cannot express. Each failure is a BAD_USER_INPUT error
// that says what is wrong; a well-formed id that matches nothing is not an error (the field is null).
import { BadUserInputError } from '../infra/errors.ts';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_PAGE_SIZE = 100;

export function parseIntId(value: string, argumentName: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > 2_147_483_647) {
    throw new BadUserInputError(
      `${argumentName} must be a positive integer id, got ${JSON.stringify(value.slice(0, 40))}`,
      argumentName,
    );
  }
  return Number(value);
}

export function parseUuid(value: string, argumentName: string): string {
  if (!UUID.test(value))
    throw new BadUserInputError(
      `${argumentName} must be a UUID, got ${JSON.stringify(value.slice(0, 40))}`,
      argumentName,
    );
  return value.toLowerCase();
}

export function parsePageSize(first: number | null | undefined, argumentName = 'first'): number {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`${argumentName} must be between 1 and ${MAX_PAGE_SIZE}, got ${size}`, argumentName);
  }
  return size;
}

export function parsePostcode(code: string): string {
  if (!/^\d{5}$/.test(code))
    throw new BadUserInputError(`postcode must be exactly 5 digits, got ${JSON.stringify(code.slice(0, 20))}`, 'code');
  return code;
}

/**
 * Opaque keyset cursors: base64url of a JSON array [sortValue, id]. Decoding checks the shape, so a
 * tampered cursor is a clear BAD_USER_INPUT rather than a database error.
 */
export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor(
  cursor: string | null | undefined,
  shape: readonly ('string' | 'number')[],
): (string | number)[] | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const invalid = (): never => {
    throw new BadUserInputError('after is not a valid cursor: pass endCursor from a previous page', 'after');
  };
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) return invalid();
  parsed.forEach((part, i) => {
    if (typeof part !== shape[i] || (typeof part === 'number' && !Number.isFinite(part))) invalid();
  });
  return parsed as (string | number)[];
}

const MAX_INT4 = 2_147_483_647;

/** A timestamp PostgreSQL can compare against: years 1 to 9999. */
export function isStorableDate(date: Date): boolean {
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 1 && year <= 9999;
}

/** A whole number that fits PostgreSQL's integer. */
export function isInt4(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= -MAX_INT4 - 1 && value <= MAX_INT4;
}
