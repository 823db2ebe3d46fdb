// Tenants and staff (src/accounts/staff-service.ts) on two gateways sharing Redis and PostgreSQL:
// - a platform admin creates an organization and makes an unknown email its admin; that admin adds a
//   customer as CATALOG_MANAGER, who may then change the organization's products but not its venues;
// - a role change on instance A applies on instance B from the next request (the cached session entry
//   is dropped); a member removed on A is refused on B at once, even with B's session entry warm;
// - removal is audited under the organization, with the number of sessions that ended.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, signIn, type Headers } from '../support/kit.ts';
import { EMAILS, errorOf, insertUser, sqlRows } from './kit.ts';

let database: TestDatabase;
let a: TestGateway;
let b: TestGateway;
let platform: Headers;
let orgAdmin: Headers;
let orgA: string;
let productOfA: string;
let venueOfA: string;

const ME = '{ me { id role organization { slug } } }';
const UPDATE_PRODUCT = `mutation U($id: ID!) { updateProduct(id: $id, input: { name: "staff edit" }) { id } }`;
const UPDATE_VENUE = `mutation V($id: ID!) { updateVenue(id: $id, input: { name: "staff edit" }) { id } }`;

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  orgA = (await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Organization" WHERE slug = 'klcc-live'`))[0]!.id;
  productOfA = String(
    (
      await sqlRows<{ id: number }>(database.url, `SELECT id FROM "Product" WHERE "organizationId" = $1 LIMIT 1`, [
        orgA,
      ])
    )[0]!.id,
  );
  venueOfA = (
    await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Venue" WHERE "organizationId" = $1`, [orgA])
  )[0]!.id;
  const options = { databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix: randomPrefix() };
  [a, b] = await Promise.all([startTestGateway(options), startTestGateway(options)]);
  platform = (await signIn(a.url, EMAILS.platform)).headers;
  orgAdmin = (await signIn(a.url, EMAILS.orgA)).headers;
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await database?.drop();
});

describe('tenants and staff', () => {
  it('a platform admin creates an organization and makes a new email its admin; org admins may not', async () => {
    const created = dataOf(
      await gql<{ createOrganization: { id: string; slug: string } }>(
        a.url,
        `mutation { createOrganization(input: { slug: "sabah-sounds", name: "Sabah Sounds" }) { id slug } }`,
        {},
        platform,
      ),
    ).createOrganization;
    expect(created.slug).toBe('sabah-sounds');
    const ADD = `mutation M($o: ID!, $e: String!) {
      addOrganizationMember(organizationId: $o, email: $e, role: ORG_ADMIN) { id email role organizationId } }`;
    const member = dataOf(
      await gql<{ addOrganizationMember: Record<string, string> }>(
        b.url,
        ADD,
        { o: created.id, e: 'Boss@Sabah-Sounds.test' },
        platform,
      ),
    ).addOrganizationMember;
    expect(member).toMatchObject({ email: 'boss@sabah-sounds.test', role: 'ORG_ADMIN', organizationId: created.id });
    // The new member is listed at once on the other instance.
    const read = await gql<{ myOrganization: null }>(
      b.url,
      `{ members: organizationMembers(organizationId: "${created.id}") { id } }`,
      {},
      platform,
    );
    expect(dataOf(read)).toEqual({ members: [{ id: member.id }] });
    // A duplicate slug is a conflict; an org admin may not create one, nor add staff to another.
    errorOf(
      await gql(
        a.url,
        `mutation { createOrganization(input: { slug: "sabah-sounds", name: "x" }) { id } }`,
        {},
        platform,
      ),
      'CONFLICT',
    );
    errorOf(
      await gql(a.url, `mutation { createOrganization(input: { slug: "mine-now", name: "x" }) { id } }`, {}, orgAdmin),
      'FORBIDDEN',
    );
    errorOf(await gql(a.url, ADD, { o: created.id, e: 'sneaky@example.test' }, orgAdmin), 'FORBIDDEN');
  });

  it('a catalog manager changes products but not venues; a role change on A applies on B at once', async () => {
    const email = 'catalog-hire@example.test';
    const userId = await insertUser(database.url, { email, role: 'CUSTOMER', organizationId: null });
    const staff = await signIn(b.url, email);
    // Warm the session entry on B as a customer.
    expect(dataOf(await gql(b.url, ME, {}, staff.headers))).toEqual({
      me: { id: userId, role: 'CUSTOMER', organization: null },
    });
    errorOf(await gql(b.url, UPDATE_PRODUCT, { id: productOfA }, staff.headers), 'FORBIDDEN');

    const added = await gql<{ addOrganizationMember: { role: string } }>(
      a.url,
      `mutation M($o: ID!) { addOrganizationMember(organizationId: $o, email: "${email}", role: CATALOG_MANAGER) ` +
        `{ role } }`,
      { o: orgA },
      orgAdmin,
    );
    expect(dataOf(added).addOrganizationMember.role).toBe('CATALOG_MANAGER');
    // Same token, other instance, next request: the new role.
    expect(dataOf(await gql(b.url, ME, {}, staff.headers))).toEqual({
      me: { id: userId, role: 'CATALOG_MANAGER', organization: { slug: 'klcc-live' } },
    });
    dataOf(await gql(b.url, UPDATE_PRODUCT, { id: productOfA }, staff.headers));
    errorOf(await gql(b.url, UPDATE_VENUE, { id: venueOfA }, staff.headers), 'FORBIDDEN');

    const changed = await gql(
      a.url,
      `mutation { updateMemberRole(userId: "${userId}", role: BOX_OFFICE) { role } }`,
      {},
      orgAdmin,
    );
    expect(dataOf(changed)).toEqual({ updateMemberRole: { role: 'BOX_OFFICE' } });
    errorOf(await gql(b.url, UPDATE_PRODUCT, { id: productOfA }, staff.headers), 'FORBIDDEN');
  });

  it('a member removed on instance A is refused on instance B at once, and the removal is audited', async () => {
    const email = 'leaving@klcc-live.test';
    const userId = await insertUser(database.url, { email, role: 'CATALOG_MANAGER', organizationId: orgA });
    const sessions = [await signIn(b.url, email), await signIn(a.url, email)];
    for (const s of sessions) dataOf(await gql(b.url, UPDATE_PRODUCT, { id: productOfA }, s.headers));
    // An org admin of another organization may not remove them, nor may they remove themselves.
    const orgB = (await signIn(a.url, EMAILS.orgB)).headers;
    errorOf(await gql(a.url, `mutation { removeMember(userId: "${userId}") }`, {}, orgB), 'FORBIDDEN');

    expect(dataOf(await gql(a.url, `mutation { removeMember(userId: "${userId}") }`, {}, orgAdmin))).toEqual({
      removeMember: true,
    });
    for (const s of sessions) {
      errorOf(await gql(b.url, UPDATE_PRODUCT, { id: productOfA }, s.headers), 'UNAUTHENTICATED');
      expect(dataOf(await gql(b.url, '{ me { id } }', {}, s.headers))).toEqual({ me: null });
    }
    const rows = await sqlRows<{ action: string; organizationId: string; detail: unknown }>(
      database.url,
      `SELECT action, "organizationId", detail FROM "AuditLog" WHERE "targetId" = $1 ORDER BY id`,
      [userId],
    );
    expect(rows).toEqual([
      { action: 'MEMBER_REMOVED', organizationId: orgA, detail: { role: 'CATALOG_MANAGER' } },
      { action: 'SESSIONS_REVOKED', organizationId: orgA, detail: { count: 2 } },
    ]);
  });
});
