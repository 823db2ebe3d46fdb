// Builds the executable schema from schema/*.graphql and the resolvers of every domain.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { accountResolvers } from '../accounts/resolvers.ts';
import { commerceMutations } from '../commerce/mutations.ts';
import { commerceResolvers } from '../commerce/resolvers.ts';
import { storefrontResolvers } from '../commerce/storefront-resolvers.ts';
import { referenceResolvers } from '../reference/resolvers.ts';
import { ticketingMutations } from '../ticketing/mutations.ts';
import { ticketingResolvers } from '../ticketing/resolvers.ts';
import { bookingResolvers } from '../ticketing/booking-resolvers.ts';
import { adminResolvers } from '../accounts/admin-resolvers.ts';
import { staffResolvers } from '../accounts/staff-resolvers.ts';
import { selfServiceResolvers } from '../accounts/self-service-resolvers.ts';
import { activityResolvers } from '../accounts/activity-resolvers.ts';
import { declarePermissions } from '../accounts/permissions/schema-permissions.ts';
import { scalarResolvers } from './scalars.ts';

export const SCHEMA_DIR = new URL('../../schema/', import.meta.url).pathname;

/** The SDL files, in name order, so the merged schema is the same on every start. */
export function readTypeDefs(dir = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => readFileSync(join(dir, name), 'utf8'));
}

export function buildSchema(typeDefs: string[] = readTypeDefs()): GraphQLSchema {
  const schema = makeExecutableSchema({
    typeDefs,
    resolvers: [
      scalarResolvers,
      referenceResolvers,
      commerceResolvers,
      commerceMutations,
      storefrontResolvers,
      ticketingResolvers,
      ticketingMutations,
      bookingResolvers,
      accountResolvers,
      adminResolvers,
      staffResolvers,
      selfServiceResolvers,
      activityResolvers,
    ],
    // A resolver for a field the SDL lacks is a mistake to catch at start-up, not at query time.
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
  declarePermissions(schema);
  return schema;
}
