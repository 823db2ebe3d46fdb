// Reads the @cacheControl hints of the schema once at start-up: the one source of TTLs
// (docs/ARCHITECTURE.md). The same directives drive Apollo's HTTP Cache-Control header (Apollo's own
// CachePolicy); here they become entity TTLs, hence the name TtlPolicy.
import { getDirective } from '@graphql-tools/utils';
import { isObjectType, type GraphQLSchema } from 'graphql';

export type CacheScope = 'PUBLIC' | 'PRIVATE';

export interface CacheHint {
  maxAge: number;
  scope: CacheScope;
}

export interface TtlPolicy {
  /** The hint on a type, e.g. typeHint('Product') -> 7200 s PUBLIC; undefined when the type has none. */
  typeHint(typeName: string): CacheHint | undefined;
  /** The hint on a field, falling back to the hint of the type it returns. */
  fieldHint(typeName: string, fieldName: string): CacheHint | undefined;
  /** TTL in seconds for an entity or relation; throws at start-up if the schema gives none. */
  ttlOf(typeName: string, fieldName?: string): number;
}

function hintFrom(schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): CacheHint | undefined {
  const directive = getDirective(schema, node, 'cacheControl')?.[0];
  if (!directive || typeof directive.maxAge !== 'number') return undefined;
  return { maxAge: directive.maxAge, scope: directive.scope === 'PRIVATE' ? 'PRIVATE' : 'PUBLIC' };
}

function namedTypeName(type: { toString(): string }): string {
  return type.toString().replace(/[[\]!]/g, '');
}

export function readTtlPolicy(schema: GraphQLSchema): TtlPolicy {
  const typeHints = new Map<string, CacheHint>();
  const fieldHints = new Map<string, CacheHint>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const typeHint = hintFrom(schema, type);
    if (typeHint) typeHints.set(type.name, typeHint);
    for (const field of Object.values(type.getFields())) {
      const hint =
        hintFrom(schema, field) ??
        typeHints.get(namedTypeName(field.type)) ??
        hintFrom(schema, schema.getType(namedTypeName(field.type)) as never);
      if (hint) fieldHints.set(`${type.name}.${field.name}`, hint);
    }
  }
  const policy: TtlPolicy = {
    typeHint: (typeName) => typeHints.get(typeName),
    fieldHint: (typeName, fieldName) => fieldHints.get(`${typeName}.${fieldName}`),
    ttlOf(typeName, fieldName) {
      const hint = fieldName ? policy.fieldHint(typeName, fieldName) : policy.typeHint(typeName);
      if (!hint)
        throw new Error(`schema has no @cacheControl maxAge for ${fieldName ? `${typeName}.${fieldName}` : typeName}`);
      return hint.maxAge;
    },
  };
  return policy;
}
