// Bounds derived from the schema itself, so a field added later is covered without editing this file:
// - every list field is paginated (`first`), a connection's page, or capped (src/limits/list-caps.ts);
// - every cycle the schema has (Seat.event -> Event.seats, Category.products -> Product.category, ...)
//   is walked from a root field, one more lap at a time with the largest pages, against a production
//   gateway: each query is refused with a code or, when accepted, costs at most QUERY_MAX_COST, holds no
//   more values than its cost counted, and stays under RESPONSE_MAX_BYTES.
import {
  getNamedType,
  getNullableType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  type GraphQLField,
  type GraphQLObjectType,
  type OperationDefinitionNode,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildSchema } from '../../src/graphql/schema.ts';
import { isConnectionType, LIST_CAPS } from '../../src/limits/list-caps.ts';
import { operationCost } from '../../src/limits/query-cost.ts';
import { fragmentsOf } from '../../src/limits/rate-limits.ts';
import { sqlRows } from '../accounts/kit.ts';
import { startTestGateway, type TestGateway } from '../support/gateway.ts';

const MAX_COST = 50_000;
const RESPONSE_MAX_BYTES = 8 * 1024 * 1024;
const MAX_LAPS = 6;
const schema = buildSchema();
const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);

let gw: TestGateway;
/** Arguments for root fields that need them, from the test database. */
let rootArguments: Record<string, string>;

beforeAll(async () => {
  gw = await startTestGateway({
    databaseUrl: inject('databaseUrl'),
    env: {
      NODE_ENV: 'production',
      KEY_HASH_SECRET: 'schema-bounds-test-secret',
      QUERY_MAX_COST: String(MAX_COST),
      RESPONSE_MAX_BYTES: String(RESPONSE_MAX_BYTES),
      QUERY_MAX_DEPTH: '10',
    },
  });
  const [event] = await sqlRows<{ id: string; venueId: string }>(
    inject('databaseUrl'),
    'SELECT id, "venueId" FROM "Event" ORDER BY capacity DESC LIMIT 1',
  );
  rootArguments = {
    product: '(id: "1")',
    category: '(id: "1")',
    event: `(id: "${event!.id}")`,
    venue: `(id: "${event!.venueId}")`,
    postcode: '(code: "50450")',
    cities: '(state: "Selangor")',
  };
}, 60_000);

afterAll(async () => {
  await gw?.stop();
});

type Field = GraphQLField<unknown, unknown>;

function objectTypes(): GraphQLObjectType[] {
  return Object.values(schema.getTypeMap()).filter(
    (t): t is GraphQLObjectType => isObjectType(t) && !t.name.startsWith('__'),
  );
}

/** How a field is written in a query: the largest page when it takes `first`, required arguments given. */
function fieldText(parent: GraphQLObjectType, field: Field): string | undefined {
  if (ROOTS.has(parent.name) && field.args.some((a) => isNonNullType(a.type)))
    return rootArguments[field.name] === undefined ? undefined : `${field.name}${rootArguments[field.name]}`;
  if (field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) return undefined;
  return field.args.some((a) => a.name === 'first') ? `${field.name}(first: 100)` : field.name;
}

function objectFields(type: GraphQLObjectType): [Field, GraphQLObjectType][] {
  return Object.values(type.getFields()).flatMap((field) => {
    const target = getNamedType(field.type);
    return isObjectType(target) ? [[field, target] as [Field, GraphQLObjectType]] : [];
  });
}

/** Every simple cycle of object types through fields, each found once (from its smallest type name). */
function cycles(): { start: GraphQLObjectType; path: [GraphQLObjectType, Field][] }[] {
  const found: { start: GraphQLObjectType; path: [GraphQLObjectType, Field][] }[] = [];
  const visit = (start: GraphQLObjectType, at: GraphQLObjectType, path: [GraphQLObjectType, Field][]): void => {
    for (const [field, target] of objectFields(at)) {
      if (!fieldText(at, field)) continue;
      if (target === start) found.push({ start, path: [...path, [at, field]] });
      else if (target.name > start.name && !path.some(([t]) => t === target) && path.length < 6)
        visit(start, target, [...path, [at, field]]);
    }
  };
  for (const type of objectTypes()) if (!ROOTS.has(type.name)) visit(type, type, []);
  return found;
}

/** The shortest way from Query to a type, as field texts. */
function entryTo(type: GraphQLObjectType): string[] | undefined {
  const queue: [GraphQLObjectType, string[]][] = [[schema.getQueryType()!, []]];
  const seen = new Set<string>(['Query']);
  while (queue.length) {
    const [at, path] = queue.shift()!;
    if (at === type) return path;
    for (const [field, target] of objectFields(at)) {
      const text = fieldText(at, field);
      if (!text || seen.has(target.name)) continue;
      seen.add(target.name);
      queue.push([target, [...path, text]]);
    }
  }
  return undefined;
}

function leafOf(type: GraphQLObjectType): string {
  return type.getFields().id ? 'id' : '__typename';
}

function nest(fields: string[], leaf: string): string {
  return fields.reduceRight((inner, field) => `${field} { ${inner} }`, leaf);
}

/** Values in an answer: every key, at every depth (what the cost is an upper bound of). */
function valuesIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + valuesIn(item), 0);
  if (value && typeof value === 'object')
    return Object.values(value).reduce((sum: number, item) => sum + 1 + valuesIn(item), 0);
  return 0;
}

describe('every list field is bounded', () => {
  it('each list field has `first`, is a connection page, or has a cap', () => {
    const unbounded: string[] = [];
    for (const type of objectTypes()) {
      for (const field of Object.values(type.getFields())) {
        if (!isListType(getNullableType(field.type))) continue;
        const bounded =
          field.args.some((a) => a.name === 'first') ||
          LIST_CAPS[`${type.name}.${field.name}`] !== undefined ||
          isConnectionType(type.name);
        if (!bounded) unbounded.push(`${type.name}.${field.name}`);
      }
    }
    expect(unbounded).toEqual([]);
  });
});

describe('every cycle of the schema, walked lap after lap', () => {
  const all = cycles();

  it('finds the cycles the schema has', () => {
    const names = all.map((c) => c.path.map(([t, f]) => `${t.name}.${f.name}`).join(' -> '));
    expect(names).toContain('Event.seats -> Seat.event');
    expect(names.length).toBeGreaterThanOrEqual(5);
  });

  it('the worst accepted query of each cycle stays under the cost and size bounds', { timeout: 120_000 }, async () => {
    const report: string[] = [];
    for (const cycle of all) {
      const entry = entryTo(cycle.start);
      if (!entry) continue;
      const lap = cycle.path.map(([type, field]) => fieldText(type, field)!);
      let worst = { laps: 0, cost: 0, bytes: 0, values: 0 };
      for (let laps = 1; laps <= MAX_LAPS; laps++) {
        const fields = [...entry, ...Array.from({ length: laps }, () => lap).flat()];
        const query = `{ ${nest(fields, leafOf(cycle.start))} }`;
        const document = parse(query);
        const operation = document.definitions[0] as OperationDefinitionNode;
        const cost = operationCost({ schema, operation, fragments: fragmentsOf(document), variables: {} });
        const response = await fetch(gw.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        });
        const text = await response.text();
        const body = JSON.parse(text) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
        const codes = (body.errors ?? []).map((e) => e.extensions?.code);
        expect(response.status, text.slice(0, 300)).toBeLessThan(500);
        expect(codes, text.slice(0, 300)).not.toContain('INTERNAL_SERVER_ERROR');
        const refused = codes.some((c) => ['QUERY_TOO_COSTLY', 'GRAPHQL_VALIDATION_FAILED'].includes(String(c)));
        if (refused) {
          if (codes.includes('QUERY_TOO_COSTLY')) expect(cost).toBeGreaterThan(MAX_COST);
          break;
        }
        // Accepted: within the cost, the answer within the bytes, and no more values than the cost counted.
        expect(cost, query).toBeLessThanOrEqual(MAX_COST);
        expect(Buffer.byteLength(text), query).toBeLessThanOrEqual(RESPONSE_MAX_BYTES);
        const values = valuesIn(body.data);
        expect(values, query).toBeLessThanOrEqual(cost);
        worst = { laps, cost, bytes: Buffer.byteLength(text), values };
      }
      report.push(
        `${cycle.path.map(([t, f]) => `${t.name}.${f.name}`).join(' -> ')}: ${worst.laps} laps accepted, ` +
          `cost ${worst.cost}, ${worst.values} values, ${worst.bytes} bytes`,
      );
    }
    console.log(`[schema cycles] ${report.length} cycles\n  ${report.join('\n  ')}`);
    expect(report.length).toBeGreaterThanOrEqual(5);
  });
});
