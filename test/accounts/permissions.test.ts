// Permissions declared in the schema (schema/permissions.graphql, src/accounts/permissions/): every
// mutation and subscription declares one; the TypeScript list matches the schema's enum; introspection
// shows each field's permission; and the pure check refuses what the table does not allow, through
// fragments and variables, scoping `organizationId` to the viewer's organization.
import { isObjectType, parse, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkOperation, requiredPermission, type Asker } from '../../src/accounts/permissions/check.ts';
import { PERMISSIONS, ROLE_PERMISSIONS } from '../../src/accounts/permissions/role-permissions.ts';
import { buildSchema } from '../../src/graphql/schema.ts';

const schema: GraphQLSchema = buildSchema();
const ORG = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const orgAdmin: Asker = { role: 'ORG_ADMIN', organizationId: ORG };
const catalog: Asker = { role: 'CATALOG_MANAGER', organizationId: ORG };
const platform: Asker = { role: 'PLATFORM_ADMIN', organizationId: null };

const verdict = (query: string, viewer: Asker | null, variables: Record<string, unknown> = {}) => {
  const decision = checkOperation({ schema, document: parse(query), variables, viewer });
  return decision.ok ? 'ok' : decision.code;
};

describe('permissions in the schema', () => {
  it('every mutation and subscription declares a permission with @requires', () => {
    const missing: string[] = [];
    for (const root of [schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const field of Object.values(root!.getFields()))
        if (!requiredPermission(schema, field)) missing.push(`${root!.name}.${field.name}`);
    }
    expect(missing).toEqual([]);
    expect(Object.keys(schema.getMutationType()!.getFields()).length).toBeGreaterThan(15);
  });

  it('the role table knows exactly the permissions of the schema, and every role is in it', () => {
    const enumValues = schema.getType('Permission');
    expect(enumValues && 'getValues' in enumValues ? enumValues.getValues().map((v) => v.name) : []).toEqual([
      ...PERMISSIONS,
    ]);
    const roles = schema.getType('Role');
    expect(
      roles && 'getValues' in roles
        ? roles
            .getValues()
            .map((v) => v.name)
            .sort()
        : [],
    ).toEqual(Object.keys(ROLE_PERMISSIONS).sort());
  });

  it("introspection shows each field's permission in its description", () => {
    const described: string[] = [];
    for (const type of Object.values(schema.getTypeMap()))
      if (isObjectType(type))
        for (const field of Object.values(type.getFields()))
          if (field.description?.includes('Requires permission: ')) described.push(`${type.name}.${field.name}`);
    expect(described).toEqual(
      expect.arrayContaining(['Mutation.createProduct', 'Mutation.removeMember', 'Query.auditLog', 'Mutation.signIn']),
    );
    expect(schema.getMutationType()!.getFields().updateVenue!.description).toContain(
      'Requires permission: EVENT_MANAGE.',
    );
  });

  it('refuses by role, through fragments, and scopes organizationId to the viewer', () => {
    const updateProduct = 'mutation { updateProduct(id: "1", input: { name: "x" }) { id } }';
    expect(verdict(updateProduct, null)).toBe('UNAUTHENTICATED');
    expect(verdict(updateProduct, { role: 'CUSTOMER', organizationId: null })).toBe('FORBIDDEN');
    expect(verdict(updateProduct, { role: 'BOX_OFFICE', organizationId: ORG })).toBe('FORBIDDEN');
    expect(verdict(updateProduct, catalog)).toBe('ok');
    expect(verdict('mutation { updateVenue(id: "x", input: { name: "x" }) { id } }', catalog)).toBe('FORBIDDEN');
    // A field reached through a fragment is checked like any other.
    const viaFragment = 'query { ...F } fragment F on Query { auditLog { id } }';
    expect(verdict(viaFragment, { role: 'BOX_OFFICE', organizationId: ORG })).toBe('FORBIDDEN');
    expect(verdict(viaFragment, orgAdmin)).toBe('ok');
    // organizationId, literal or variable: the viewer's own only (a platform admin: any).
    const members = 'query M($o: ID!) { organizationMembers(organizationId: $o) { id } }';
    expect(verdict(members, orgAdmin, { o: ORG })).toBe('ok');
    expect(verdict(members, orgAdmin, { o: OTHER })).toBe('FORBIDDEN');
    expect(verdict(`{ organizationMembers(organizationId: "${OTHER}") { id } }`, orgAdmin)).toBe('FORBIDDEN');
    expect(verdict(members, platform, { o: OTHER })).toBe('ok');
    // Public fields need nobody.
    expect(verdict('{ product(id: "1") { id } }', null)).toBe('ok');
  });
});
