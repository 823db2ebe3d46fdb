// Custom scalars. Decimal travels as a string so money is never rounded through a float; DateTime is
// graphql-scalars' ISO-8601 scalar.
import { GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver } from 'graphql-scalars';
import { Decimal } from '@prisma/client/runtime/client';
import { BadUserInputError } from '../infra/errors.ts';

const DECIMAL_TEXT = /^-?\d{1,15}(\.\d{1,6})?$/;

function parseDecimal(value: unknown): Decimal {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL_TEXT.test(text)) {
    throw new BadUserInputError('Decimal must be a number written as a string, like "12.50"');
  }
  return new Decimal(text);
}

export const DecimalScalar = new GraphQLScalarType<Decimal, string>({
  name: 'Decimal',
  description: 'An exact decimal amount, serialised as a string.',
  serialize(value) {
    if (Decimal.isDecimal(value)) return (value as Decimal).toFixed(2);
    if (typeof value === 'string' || typeof value === 'number') return new Decimal(value).toFixed(2);
    throw new TypeError('Decimal cannot represent this value');
  },
  parseValue: parseDecimal,
  parseLiteral(ast) {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return parseDecimal(ast.value);
    throw new BadUserInputError('Decimal must be a string like "12.50"');
  },
});

export const scalarResolvers = { Decimal: DecimalScalar, DateTime: DateTimeResolver };
