// The SDL in schema/*.graphql loads into an executable schema with the promised root fields, and its
// @cacheControl hints are the TTLs the caches use (src/cache/ttl-policy.ts).
import { isObjectType, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { readTtlPolicy, type TtlPolicy } from '../../src/cache/ttl-policy.ts';
import { buildSchema } from '../../src/graphql/schema.ts';

let schema: GraphQLSchema;
let policy: TtlPolicy;

beforeAll(() => {
  schema = buildSchema();
  policy = readTtlPolicy(schema);
});

function objectType(name: string): GraphQLObjectType {
  const type = schema.getType(name);
  if (!isObjectType(type)) throw new Error(`${name} is not an object type of the schema`);
  return type;
}

describe('the SDL', () => {
  it('builds an executable schema from schema/*.graphql', () => {
    expect(schema.getQueryType()?.name).toBe('Query');
  });

  it('Query has the catalog, reference, ticketing and account fields', () => {
    const fields = Object.keys(objectType('Query').getFields());
    for (const name of [
      'product',
      'products',
      'categories',
      'category',
      'postcode',
      'states',
      'cities',
      'event',
      'events',
      'venue',
      'me',
    ]) {
      expect(fields, `Query.${name}`).toContain(name);
    }
  });

  it('has a Subscription type with fields', () => {
    const subscription = schema.getSubscriptionType();
    expect(subscription?.name).toBe('Subscription');
    const fields = Object.keys(subscription?.getFields() ?? {});
    expect(fields.length).toBeGreaterThan(0);
    expect(fields).toEqual(expect.arrayContaining(['seatsChanged', 'inventoryChanged']));
  });

  it('money is Decimal, never Float', () => {
    expect(String(objectType('Product').getFields().basePrice?.type)).toBe('Decimal!');
    expect(String(objectType('ProductPrice').getFields().amount?.type)).toBe('Decimal!');
    expect(String(objectType('Seat').getFields().price?.type)).toBe('Decimal!');
  });
});

describe('readTtlPolicy: TTLs come from the @cacheControl hints', () => {
  const expected: [type: string, field: string | undefined, maxAge: number][] = [
    ['State', undefined, 604_800],
    ['Product', undefined, 7_200],
    ['Query', 'products', 3_600],
    ['Inventory', undefined, 300],
    ['ProductPrice', undefined, 1_800],
    ['Seat', undefined, 5],
  ];
  for (const [type, field, maxAge] of expected) {
    it(`${field ? `${type}.${field}` : type} lives ${maxAge} s`, () => {
      expect(policy.ttlOf(type, field)).toBe(maxAge);
      const hint = field ? policy.fieldHint(type, field) : policy.typeHint(type);
      expect(hint).toEqual({ maxAge, scope: 'PUBLIC' });
    });
  }

  it('User is PRIVATE (never in a shared cache), and so is Query.me', () => {
    expect(policy.typeHint('User')).toEqual({ maxAge: 0, scope: 'PRIVATE' });
    expect(policy.fieldHint('Query', 'me')?.scope).toBe('PRIVATE');
  });

  it('a field without its own hint inherits the hint of the type it returns', () => {
    expect(policy.fieldHint('Query', 'product')).toEqual(policy.typeHint('Product'));
    expect(policy.fieldHint('Event', 'seats')).toEqual({ maxAge: 5, scope: 'PUBLIC' });
  });

  it('asking for a TTL the schema does not give throws', () => {
    expect(() => policy.ttlOf('PageInfo')).toThrow(/no @cacheControl maxAge for PageInfo/);
  });
});
