// Reads the @staleWhileRevalidate hints of the schema once at start-up: how long past its maxAge a
// stored answer may still be served while it is refreshed in the background (docs/ARCHITECTURE.md,
// stale-while-revalidate). Like maxAge, an answer's grace is the minimum over the hints it touched:
// every field that carries a @cacheControl hint (its own or its return type's) contributes its own
// @staleWhileRevalidate, else its return type's, else 0 (no serving stale).
import { getDirective } from '@graphql-tools/utils';
import { getNamedType, isObjectType, type GraphQLSchema } from 'graphql';
import type { TtlPolicy } from '../ttl-policy.ts';

/** `Type.field` -> grace in seconds, for the fields that carry a cache hint. */
export type StaleGraces = ReadonlyMap<string, number>;

function graceOf(schema: GraphQLSchema, node: Parameters<typeof getDirective>[1]): number | undefined {
  const grace = getDirective(schema, node, 'staleWhileRevalidate')?.[0]?.grace;
  return typeof grace === 'number' && grace > 0 ? grace : undefined;
}

export function readStaleGraces(schema: GraphQLSchema, ttl: TtlPolicy): StaleGraces {
  const graces = new Map<string, number>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (!ttl.fieldHint(type.name, field.name)) continue;
      const returned = getNamedType(field.type);
      graces.set(`${type.name}.${field.name}`, graceOf(schema, field) ?? graceOf(schema, returned) ?? 0);
    }
  }
  return graces;
}
