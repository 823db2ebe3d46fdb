// Who may do what (the @requires permissions, src/accounts/authorization.ts and every resolver that calls
// it), table-driven: roles {anonymous, customer, org admin A (klcc-live), catalog manager and box office of
// A, org admin B (penang-arts), platform admin} × the admin, tenant, staff and account operations.
// Allowed: data. Refused: UNAUTHENTICATED for anonymous,
// FORBIDDEN otherwise, with no data and no effect in the database. A DRAFT event reads as null (not an
// error) for outsiders.
//
// Then: org admin B tries every id of org A (all venues, events, products): all refused, nothing changes;
// and no cross-tenant value ever comes back from a cache: two gateways share one Redis, A's draft list,
// draft event and venue event list are warmed as admin A, then read as admin B and anonymously.
//
// Fixture: the small seed gives klcc-live no DRAFT event, so one is inserted (private database copy).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { sleep, waitUntil } from '../support/wait.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { EMAILS, codesOf, errorOf, insertUser, sqlRows } from './kit.ts';
import { dataOf, gql, keysMatching, rawRedis, signIn, type Headers, type Reply } from '../support/kit.ts';

const ROLES = ['anonymous', 'customer', 'orgA', 'catalogA', 'boxOfficeA', 'orgB', 'platform'] as const;
type Role = (typeof ROLES)[number];

interface Fixture {
  orgA: string;
  orgB: string;
  venuesA: string[];
  eventsA: { id: string; status: string; venueId: string }[];
  productsA: number[];
  platformProducts: number[];
  leafCategory: number;
  draftA: string;
  draftVenueA: string;
  onSaleEventA: string;
  draftB: string | undefined;
}

let database: TestDatabase;
let gw: TestGateway;
let gw2: TestGateway;
let fx: Fixture;
const headersOf = {} as Record<Role, Headers>;
const userIds = {} as Record<Role, string | undefined>;

/** Strings and numbers that only a refused attempt would have written: none may end up in the database. */
const refusedMarkers: string[] = [];
const refusedStock: number[] = [];
let sequence = 0;
const unique = (): number => ++sequence;

async function createProductAsPlatform(sellerId: string | null): Promise<string> {
  const reply = await gql<{ createProduct: { id: string } }>(
    gw.url,
    `mutation C($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
    {
      input: {
        sku: `FIX-${process.pid}-${unique()}`,
        name: 'fixture product',
        price: '5.00',
        categoryId: String(fx.leafCategory),
        sellerId,
        initialStock: 3,
      },
    },
    headersOf.platform,
  );
  return dataOf(reply).createProduct.id;
}

const productExists = async (id: string): Promise<boolean> =>
  (
    await sqlRows<{ n: number }>(database.url, 'SELECT count(*)::int AS n FROM "Product" WHERE id = $1', [Number(id)])
  )[0]!.n === 1;

interface Operation {
  name: string;
  query: string;
  /** Variables for one role's attempt; may create what it needs. */
  variables(role: Role, refused: boolean): Promise<Record<string, unknown>> | Record<string, unknown>;
  /** Roles that get data (everyone else is refused). */
  allowed: readonly Role[];
  /** Roles for which the answer is null data rather than an error. */
  nullFor?: readonly Role[];
  /** Extra checks on an allowed role's data. */
  check?(data: Record<string, any>, role: Role): void | Promise<void>;
  /** Extra checks after a refusal (the attempt had no effect). */
  afterRefusal?(variables: Record<string, unknown>, role: Role): void | Promise<void>;
}

const ADMINS_OF_A: readonly Role[] = ['orgA', 'platform'];
const CATALOG_OF_A: readonly Role[] = ['orgA', 'catalogA', 'platform'];
const SIGNED_IN: readonly Role[] = ['customer', 'orgA', 'catalogA', 'boxOfficeA', 'orgB', 'platform'];
const STAFF_OF_A: Partial<Record<Role, string>> = { catalogA: 'CATALOG_MANAGER', boxOfficeA: 'BOX_OFFICE' };

/** A fresh box-office member of A, for an operation that changes or removes one. */
const freshMemberOfA = (): Promise<string> =>
  insertUser(database.url, {
    email: `member-${process.pid}-${unique()}@klcc-live.test`,
    role: 'BOX_OFFICE',
    organizationId: fx.orgA,
  });

const membershipOf = async (userId: string): Promise<{ role: string; organizationId: string | null }> =>
  (
    await sqlRows<{ role: string; organizationId: string | null }>(
      database.url,
      `SELECT role::text AS role, "organizationId" FROM "User" WHERE id = $1`,
      [userId],
    )
  )[0]!;

function marker(op: string, role: Role, refused: boolean): string {
  const text = `matrix ${op} by ${role} #${unique()}`;
  if (refused) refusedMarkers.push(text);
  return text;
}

function stock(refused: boolean): number {
  const value = refused ? 990_000 + unique() : 100 + unique();
  if (refused) refusedStock.push(value);
  return value;
}

const OPERATIONS: Operation[] = [
  {
    name: 'createProduct(seller A)',
    query: `mutation C($input: CreateProductInput!) { createProduct(input: $input) { id name seller { id } } }`,
    variables: (role, refused) => ({
      input: {
        sku: `MX-${process.pid}-${unique()}`,
        name: marker('createProduct', role, refused),
        price: '12.50',
        categoryId: String(fx.leafCategory),
        sellerId: fx.orgA,
      },
    }),
    allowed: CATALOG_OF_A,
    check: (data) => expect(data.createProduct.seller.id).toBe(fx.orgA),
  },
  {
    name: 'updateProduct(A)',
    query: `mutation U($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name } }`,
    variables: (role, refused) => ({
      id: String(fx.productsA[0]),
      input: { name: marker('updateProduct', role, refused) },
    }),
    allowed: CATALOG_OF_A,
    check: (data) => expect(data.updateProduct.id).toBe(String(fx.productsA[0])),
  },
  {
    name: 'updateProduct(platform)',
    query: `mutation U($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id name } }`,
    variables: (role, refused) => ({
      id: String(fx.platformProducts[0]),
      input: { name: marker('updateProduct-platform', role, refused) },
    }),
    allowed: ['platform'],
  },
  {
    name: 'deleteProduct(A)',
    query: `mutation D($id: ID!) { deleteProduct(id: $id) }`,
    variables: async () => ({ id: await createProductAsPlatform(fx.orgA) }),
    allowed: CATALOG_OF_A,
    check: (data) => expect(data.deleteProduct).toBe(true),
    afterRefusal: async (variables) => expect(await productExists(String(variables.id))).toBe(true),
  },
  {
    name: 'deleteProduct(platform)',
    query: `mutation D($id: ID!) { deleteProduct(id: $id) }`,
    variables: async () => ({ id: await createProductAsPlatform(null) }),
    allowed: ['platform'],
    check: (data) => expect(data.deleteProduct).toBe(true),
    afterRefusal: async (variables) => expect(await productExists(String(variables.id))).toBe(true),
  },
  {
    name: 'setStock(A)',
    query:
      `mutation S($productId: ID!, $onHand: Int!) { setStock(productId: $productId, onHand: $onHand) { ` +
      `productId onHand } }`,
    variables: (_role, refused) => ({ productId: String(fx.productsA[1]), onHand: stock(refused) }),
    allowed: CATALOG_OF_A,
  },
  {
    name: 'setStock(platform)',
    query:
      `mutation S($productId: ID!, $onHand: Int!) { setStock(productId: $productId, onHand: $onHand) { ` +
      `productId onHand } }`,
    variables: (_role, refused) => ({ productId: String(fx.platformProducts[1]), onHand: stock(refused) }),
    allowed: ['platform'],
  },
  {
    name: 'createVenue(A)',
    query: `mutation V($input: CreateVenueInput!) { createVenue(input: $input) { id name organization { id } } }`,
    variables: (role, refused) => ({
      input: {
        organizationId: fx.orgA,
        name: marker('createVenue', role, refused),
        city: 'Kuala Lumpur',
        capacity: 500,
      },
    }),
    allowed: ADMINS_OF_A,
    check: (data) => expect(data.createVenue.organization.id).toBe(fx.orgA),
  },
  {
    name: 'updateVenue(A)',
    query: `mutation V($id: ID!, $input: UpdateVenueInput!) { updateVenue(id: $id, input: $input) { id name } }`,
    variables: (role, refused) => ({ id: fx.venuesA[0], input: { name: marker('updateVenue', role, refused) } }),
    allowed: ADMINS_OF_A,
  },
  {
    name: 'createEvent(A venue)',
    query: `mutation E($input: CreateEventInput!) { createEvent(input: $input) { id status organization { id } } }`,
    variables: (role, refused) => {
      const day = 86_400_000;
      const now = Date.now();
      return {
        input: {
          venueId: fx.venuesA[1],
          name: marker('createEvent', role, refused),
          startsAt: new Date(now + 60 * day).toISOString(),
          salesOpenAt: new Date(now + day).toISOString(),
          salesCloseAt: new Date(now + 59 * day).toISOString(),
          capacity: 100,
          status: 'DRAFT',
        },
      };
    },
    allowed: ADMINS_OF_A,
    check: (data) => expect(data.createEvent).toMatchObject({ status: 'DRAFT', organization: { id: fx.orgA } }),
  },
  {
    name: 'updateEvent(A)',
    query: `mutation E($id: ID!, $input: UpdateEventInput!) { updateEvent(id: $id, input: $input) { id name } }`,
    variables: (role, refused) => ({ id: fx.onSaleEventA, input: { name: marker('updateEvent', role, refused) } }),
    allowed: ADMINS_OF_A,
  },
  {
    name: 'events(A, drafts)',
    query:
      `query L($filter: EventFilter) { events(filter: $filter, first: 50) { totalCount nodes { id status ` +
      `organization { id } } } }`,
    variables: () => ({ filter: { organizationId: fx.orgA, includeDrafts: true } }),
    allowed: ADMINS_OF_A,
    check: (data) => {
      const nodes = data.events.nodes as { id: string; organization: { id: string } }[];
      expect(nodes.map((n) => n.id)).toContain(fx.draftA);
      expect(new Set(nodes.map((n) => n.organization.id))).toEqual(new Set([fx.orgA]));
    },
  },
  {
    name: 'event(A draft)',
    query: `query E($id: ID!) { event(id: $id) { id status } }`,
    variables: () => ({ id: fx.draftA }),
    allowed: ADMINS_OF_A,
    nullFor: ['anonymous', 'customer', 'catalogA', 'boxOfficeA', 'orgB'],
    check: (data) => expect(data.event).toEqual({ id: fx.draftA, status: 'DRAFT' }),
  },
  {
    name: 'myOrganization',
    query: `{ myOrganization { id slug } }`,
    variables: () => ({}),
    allowed: SIGNED_IN,
    check: (data, role) => {
      const expected = {
        orgA: 'klcc-live',
        catalogA: 'klcc-live',
        boxOfficeA: 'klcc-live',
        orgB: 'penang-arts',
      } as Partial<Record<Role, string>>;
      expect(data.myOrganization?.slug ?? null).toBe(expected[role] ?? null);
    },
  },
  {
    name: 'auditLog',
    query: `{ auditLog(first: 50) { id action organizationId createdAt } }`,
    variables: () => ({}),
    allowed: ['orgA', 'orgB', 'platform'],
    check: (data, role) => {
      const organizations = new Set(
        (data.auditLog as { organizationId: string | null }[]).map((e) => e.organizationId),
      );
      if (role === 'orgA') expect(organizations).toEqual(new Set([fx.orgA]));
      if (role === 'orgB') expect([...organizations].filter((o) => o !== fx.orgB)).toEqual([]);
    },
  },
  {
    name: 'auditLog(A)',
    query: `query A($o: ID!) { auditLog(organizationId: $o, first: 5) { organizationId } }`,
    variables: () => ({ o: fx.orgA }),
    allowed: ADMINS_OF_A,
    check: (data) => expect(data.auditLog.map((e: { organizationId: string }) => e.organizationId)).toContain(fx.orgA),
  },
  {
    name: 'cacheStats',
    query: `{ cacheStats { l1Entries l1Bytes mode redisCircuit } }`,
    variables: () => ({}),
    allowed: ['platform'],
    check: (data) => expect(data.cacheStats).toMatchObject({ mode: 'redis', redisCircuit: 'closed' }),
  },
  {
    name: 'purgeCache(Product)',
    query: `mutation { purgeCache(tags: ["Product"]) }`,
    variables: () => ({}),
    allowed: ['platform'],
    check: (data) => expect(data.purgeCache).toBe(true),
  },
  {
    name: 'createOrganization',
    query: `mutation O($input: CreateOrganizationInput!) { createOrganization(input: $input) { id slug } }`,
    variables: () => ({ input: { slug: `matrix-org-${process.pid}-${unique()}`, name: 'Matrix org' } }),
    allowed: ['platform'],
    check: (data) => expect(data.createOrganization.slug).toMatch(/^matrix-org-/),
    afterRefusal: async (variables) => {
      const slug = (variables.input as { slug: string }).slug;
      const rows = await sqlRows(database.url, `SELECT 1 FROM "Organization" WHERE slug = $1`, [slug]);
      expect(rows).toEqual([]);
    },
  },
  {
    name: 'addOrganizationMember(A)',
    query:
      `mutation M($organizationId: ID!, $email: String!) { addOrganizationMember(organizationId: $organizationId, ` +
      `email: $email, role: BOX_OFFICE) { id role organizationId } }`,
    variables: () => ({ organizationId: fx.orgA, email: `new-${process.pid}-${unique()}@example.test` }),
    allowed: ADMINS_OF_A,
    check: (data) => expect(data.addOrganizationMember).toMatchObject({ role: 'BOX_OFFICE', organizationId: fx.orgA }),
    afterRefusal: async (variables) => {
      const rows = await sqlRows(database.url, `SELECT 1 FROM "User" WHERE email = $1`, [variables.email]);
      expect(rows).toEqual([]);
    },
  },
  {
    name: 'updateMemberRole(A)',
    query: `mutation R($userId: ID!) { updateMemberRole(userId: $userId, role: CATALOG_MANAGER) { id role } }`,
    variables: async () => ({ userId: await freshMemberOfA() }),
    allowed: ADMINS_OF_A,
    check: async (data) => {
      expect(data.updateMemberRole.role).toBe('CATALOG_MANAGER');
      expect((await membershipOf(data.updateMemberRole.id)).role).toBe('CATALOG_MANAGER');
    },
    afterRefusal: async (variables) =>
      expect(await membershipOf(String(variables.userId))).toEqual({ role: 'BOX_OFFICE', organizationId: fx.orgA }),
  },
  {
    name: 'removeMember(A)',
    query: `mutation X($userId: ID!) { removeMember(userId: $userId) }`,
    variables: async () => ({ userId: await freshMemberOfA() }),
    allowed: ADMINS_OF_A,
    check: (data) => expect(data.removeMember).toBe(true),
    afterRefusal: async (variables) =>
      expect(await membershipOf(String(variables.userId))).toEqual({ role: 'BOX_OFFICE', organizationId: fx.orgA }),
  },
  {
    name: 'organizationMembers(A)',
    query: `query M($o: ID!) { organizationMembers(organizationId: $o) { id organizationId } }`,
    variables: () => ({ o: fx.orgA }),
    allowed: ADMINS_OF_A,
    check: (data) => {
      const members = data.organizationMembers as { id: string; organizationId: string }[];
      expect(members.map((m) => m.id)).toEqual(expect.arrayContaining([userIds.orgA, userIds.catalogA]));
      expect(new Set(members.map((m) => m.organizationId))).toEqual(new Set([fx.orgA]));
    },
  },
  {
    name: 'purgeCache(Event, A)',
    query: `mutation P($o: ID) { purgeCache(tags: ["Event"], organizationId: $o) }`,
    variables: () => ({ o: fx.orgA }),
    allowed: ADMINS_OF_A,
    check: (data) => expect(data.purgeCache).toBe(true),
  },
  {
    name: 'toggleWishlist',
    query: `mutation W($productId: ID!) { toggleWishlist(productId: $productId) { productId inWishlist count } }`,
    variables: () => ({ productId: String(fx.platformProducts[2]) }),
    allowed: SIGNED_IN,
    check: (data) =>
      expect(data.toggleWishlist).toMatchObject({
        productId: String(fx.platformProducts[2]),
        inWishlist: true,
        count: 1,
      }),
  },
  {
    name: 'me',
    query: `{ me { id role } }`,
    variables: () => ({}),
    allowed: SIGNED_IN,
    nullFor: ['anonymous'],
    check: (data, role) => {
      const roleName = {
        customer: 'CUSTOMER',
        orgA: 'ORG_ADMIN',
        orgB: 'ORG_ADMIN',
        platform: 'PLATFORM_ADMIN',
        ...STAFF_OF_A,
      } as Partial<Record<Role, string>>;
      expect(data.me).toEqual({ id: userIds[role], role: roleName[role] });
    },
  },
];

const CASES = OPERATIONS.flatMap((op) => ROLES.map((role) => ({ op, role, label: `${op.name} as ${role}` })));

function expectRefused(reply: Reply<Record<string, unknown>>, role: Role): void {
  const error = errorOf(reply, role === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN');
  expect(typeof error.extensions?.requestId).toBe('string');
  const data = reply.body.data;
  if (data) for (const value of Object.values(data)) expect(value).toBeNull();
}

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  const orgs = await sqlRows<{ id: string; slug: string }>(database.url, `SELECT id, slug FROM "Organization"`);
  const orgA = orgs.find((o) => o.slug === 'klcc-live')!.id;
  const orgB = orgs.find((o) => o.slug === 'penang-arts')!.id;
  const venuesA = (
    await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Venue" WHERE "organizationId" = $1 ORDER BY id`, [
      orgA,
    ])
  ).map((r) => r.id);
  expect(venuesA.length).toBeGreaterThanOrEqual(2);
  // A DRAFT event of A (the small seed has none for klcc-live).
  const draftA = randomUUID();
  const day = 86_400_000;
  await sqlRows(
    database.url,
    `INSERT INTO "Event" (id, "organizationId", "venueId", name, "startsAt", "salesOpenAt", "salesCloseAt", status,
                          capacity, "createdAt", "updatedAt")
     VALUES ($1, $2, $3, 'KLCC secret draft', $4, $5, $6, 'DRAFT', 50, now(), now())`,
    [
      draftA,
      orgA,
      venuesA[0],
      new Date(Date.now() + 40 * day),
      new Date(Date.now() + day),
      new Date(Date.now() + 39 * day),
    ],
  );
  const eventsA = await sqlRows<{ id: string; status: string; venueId: string }>(
    database.url,
    `SELECT id, status::text AS status, "venueId" FROM "Event" WHERE "organizationId" = $1 ORDER BY id`,
    [orgA],
  );
  const productsA = (
    await sqlRows<{ id: number }>(database.url, `SELECT id FROM "Product" WHERE "organizationId" = $1 ORDER BY id`, [
      orgA,
    ])
  ).map((r) => r.id);
  const platformProducts = (
    await sqlRows<{ id: number }>(
      database.url,
      `SELECT id FROM "Product" WHERE "organizationId" IS NULL ORDER BY id LIMIT 3`,
    )
  ).map((r) => r.id);
  const leaf = await sqlRows<{ id: number }>(
    database.url,
    `SELECT c.id FROM "Category" c WHERE NOT EXISTS (SELECT 1 FROM "Category" k WHERE k."parentId" = c.id) ORDER BY ` +
      `c.id LIMIT 1`,
  );
  const draftB = (
    await sqlRows<{ id: string }>(
      database.url,
      `SELECT id FROM "Event" WHERE "organizationId" = $1 AND status = 'DRAFT' LIMIT 1`,
      [orgB],
    )
  )[0]?.id;
  expect(productsA.length).toBeGreaterThanOrEqual(2);
  expect(platformProducts).toHaveLength(3);
  fx = {
    orgA,
    orgB,
    venuesA,
    eventsA,
    productsA,
    platformProducts,
    leafCategory: leaf[0]!.id,
    draftA,
    draftVenueA: venuesA[0]!,
    onSaleEventA: eventsA.find((e) => e.status === 'ON_SALE')!.id,
    draftB,
  };

  const cachePrefix = randomPrefix();
  [gw, gw2] = await Promise.all([
    startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix }),
    startTestGateway({ databaseUrl: database.url, redisUrl: inject('redisUrl'), cachePrefix }),
  ]);
  headersOf.anonymous = {};
  userIds.anonymous = undefined;
  await insertUser(database.url, { email: 'catalog@klcc-live.test', role: 'CATALOG_MANAGER', organizationId: orgA });
  await insertUser(database.url, { email: 'box-office@klcc-live.test', role: 'BOX_OFFICE', organizationId: orgA });
  const emails: Record<Exclude<Role, 'anonymous'>, string> = {
    catalogA: 'catalog@klcc-live.test',
    boxOfficeA: 'box-office@klcc-live.test',
    customer: EMAILS.customer,
    orgA: EMAILS.orgA,
    orgB: EMAILS.orgB,
    platform: EMAILS.platform,
  };
  for (const [role, email] of Object.entries(emails) as [Exclude<Role, 'anonymous'>, string][]) {
    const session = await signIn(gw.url, email);
    headersOf[role] = session.headers;
    userIds[role] = session.userId;
  }
});

afterAll(async () => {
  await Promise.allSettled([gw?.stop(), gw2?.stop()]);
  await database?.drop();
});

describe('roles × operations', () => {
  it.each(CASES)('$label', async ({ op, role }) => {
    const allowed = op.allowed.includes(role);
    const nullAnswer = op.nullFor?.includes(role) ?? false;
    const variables = await op.variables(role, !allowed && !nullAnswer);
    const reply = await gql<Record<string, any>>(gw.url, op.query, variables, headersOf[role]);
    if (allowed) {
      const data = dataOf(reply);
      await op.check?.(data, role);
    } else if (nullAnswer) {
      // Not an error: for this role the thing simply is not there.
      expect(reply.body.errors, reply.text).toBeUndefined();
      expect(reply.status).toBe(200);
      expect(Object.values(reply.body.data ?? {})).toEqual([null]);
    } else {
      expectRefused(reply, role);
      await op.afterRefusal?.(variables, role);
    }
  });

  it('no refused attempt left a trace in the database', async () => {
    expect(refusedMarkers.length).toBeGreaterThan(10);
    const names = await sqlRows<{ name: string }>(
      database.url,
      `SELECT name FROM "Product" UNION ALL SELECT name FROM "Venue" UNION ALL SELECT name FROM "Event"`,
    );
    const written = new Set(names.map((r) => r.name));
    expect(refusedMarkers.filter((m) => written.has(m))).toEqual([]);
    const stock = await sqlRows<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM "Inventory" WHERE "onHand" = ANY($1::int[])`,
      [refusedStock],
    );
    expect(stock[0]!.n).toBe(0);
    // Audit rows exist only for the allowed writes, by admins.
    const actors = await sqlRows<{ actorId: string }>(
      database.url,
      `SELECT DISTINCT "actorId" FROM "AuditLog" WHERE action IN
         ('PRODUCT_CREATED','PRODUCT_UPDATED','PRODUCT_DELETED','STOCK_SET','VENUE_CREATED','VENUE_UPDATED',
          'EVENT_CREATED','EVENT_UPDATED','CACHE_PURGE')`,
    );
    expect(actors.map((a) => a.actorId).sort()).toEqual([userIds.orgA!, userIds.catalogA!, userIds.platform!].sort());
  });
});

describe("a tenant admin trying every other tenant's ids", () => {
  interface Snapshot {
    rows: string;
  }
  const snapshot = async (): Promise<Snapshot> => {
    const rows = await sqlRows<{ row: string }>(
      database.url,
      `SELECT row_to_json(x)::text AS row FROM (
         SELECT 'v' AS kind, id::text, name, "updatedAt" FROM "Venue" WHERE "organizationId" = $1
         UNION ALL SELECT 'e', id::text, name || status::text, "updatedAt" FROM "Event" WHERE "organizationId" = $1
         UNION ALL SELECT 'p', p.id::text, p.name || p.price::text || coalesce(i."onHand"::text, '-'), p."updatedAt"
           FROM "Product" p
           LEFT JOIN "Inventory" i ON i."productId" = p.id WHERE p."organizationId" = $1
         UNION ALL SELECT 'u', id::text, role::text, "updatedAt" FROM "User" WHERE "organizationId" = $1
       ) x ORDER BY 1`,
      [fx.orgA],
    );
    return { rows: rows.map((r) => r.row).join('\n') };
  };

  it('org admin B is refused (FORBIDDEN) on every venue, event and product of org A, and nothing changes', async () => {
    const venues = (
      await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Venue" WHERE "organizationId" = $1`, [fx.orgA])
    ).map((r) => r.id);
    const events = (
      await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Event" WHERE "organizationId" = $1`, [fx.orgA])
    ).map((r) => r.id);
    const products = (
      await sqlRows<{ id: number }>(database.url, `SELECT id FROM "Product" WHERE "organizationId" = $1`, [fx.orgA])
    ).map((r) => String(r.id));
    expect(venues.length).toBeGreaterThanOrEqual(2);
    expect(events).toContain(fx.draftA);
    expect(products.length).toBeGreaterThanOrEqual(fx.productsA.length - 1);
    const before = await snapshot();
    const b = headersOf.orgB;
    const day = 86_400_000;
    const attempts: { label: string; reply: Promise<Reply<Record<string, unknown>>> }[] = [];
    const attempt = (label: string, query: string, variables: Record<string, unknown>): void => {
      attempts.push({ label, reply: gql(gw.url, query, variables, b) });
    };
    attempt('createVenue for A', `mutation V($input: CreateVenueInput!) { createVenue(input: $input) { id } }`, {
      input: { organizationId: fx.orgA, name: 'B was here', city: 'George Town', capacity: 10 },
    });
    attempt('createProduct for A', `mutation C($input: CreateProductInput!) { createProduct(input: $input) { id } }`, {
      input: {
        sku: `BX-${process.pid}`,
        name: 'B was here',
        price: '1.00',
        categoryId: String(fx.leafCategory),
        sellerId: fx.orgA,
      },
    });
    for (const id of venues) {
      attempt(
        `updateVenue ${id}`,
        `mutation V($id: ID!, $input: UpdateVenueInput!) { updateVenue(id: $id, input: $input) { id } }`,
        { id, input: { name: 'B was here', capacity: 1 } },
      );
      attempt(`createEvent at ${id}`, `mutation E($input: CreateEventInput!) { createEvent(input: $input) { id } }`, {
        input: {
          venueId: id,
          name: 'B was here',
          startsAt: new Date(Date.now() + 30 * day).toISOString(),
          salesOpenAt: new Date(Date.now() + day).toISOString(),
          salesCloseAt: new Date(Date.now() + 29 * day).toISOString(),
          capacity: 10,
          status: 'ON_SALE',
        },
      });
    }
    for (const id of events) {
      attempt(
        `updateEvent ${id}`,
        `mutation E($id: ID!, $input: UpdateEventInput!) { updateEvent(id: $id, input: $input) { id } }`,
        { id, input: { name: 'B was here', status: 'CANCELLED' } },
      );
    }
    for (const id of products) {
      attempt(
        `updateProduct ${id}`,
        `mutation U($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }`,
        { id, input: { name: 'B was here', price: '0.01' } },
      );
      attempt(`setStock ${id}`, `mutation S($id: ID!) { setStock(productId: $id, onHand: 0) { onHand } }`, { id });
      attempt(`deleteProduct ${id}`, `mutation D($id: ID!) { deleteProduct(id: $id) }`, { id });
    }
    const members = (
      await sqlRows<{ id: string }>(database.url, `SELECT id FROM "User" WHERE "organizationId" = $1`, [fx.orgA])
    ).map((r) => r.id);
    expect(members.length).toBeGreaterThanOrEqual(3);
    for (const id of members) {
      attempt(
        `updateMemberRole ${id}`,
        `mutation R($id: ID!) { updateMemberRole(userId: $id, role: ORG_ADMIN) { id } }`,
        {
          id,
        },
      );
      attempt(`removeMember ${id}`, `mutation X($id: ID!) { removeMember(userId: $id) }`, { id });
    }
    attempt(
      'addOrganizationMember to A',
      `mutation M($o: ID!) { addOrganizationMember(organizationId: $o, email: "b-was-here@example.test", ` +
        `role: ORG_ADMIN) { id } }`,
      { o: fx.orgA },
    );
    attempt('organizationMembers of A', `query M($o: ID!) { organizationMembers(organizationId: $o) { id } }`, {
      o: fx.orgA,
    });
    const outcomes = await Promise.all(attempts.map(async (a) => ({ label: a.label, reply: await a.reply })));
    const notForbidden = outcomes.filter(
      (o) => JSON.stringify(codesOf(o.reply)) !== '["FORBIDDEN"]' || o.reply.body.data != null,
    );
    expect(notForbidden.map((o) => `${o.label}: ${o.reply.text.slice(0, 200)}`)).toEqual([]);
    expect(outcomes.length).toBe(4 + venues.length * 2 + events.length + products.length * 3 + members.length * 2);
    expect((await snapshot()).rows).toBe(before.rows);
    const traces = await sqlRows<{ n: number }>(
      database.url,
      `SELECT (SELECT count(*) FROM "Venue" WHERE name = 'B was here')
            + (SELECT count(*) FROM "Event" WHERE name = 'B was here')
            + (SELECT count(*) FROM "Product" WHERE name = 'B was here') AS n`,
    );
    expect(Number(traces[0]!.n)).toBe(0);
  });
});

describe('no cross-tenant value ever comes back from a cache', () => {
  const LIST =
    `query L($filter: EventFilter) { events(filter: $filter, first: 100) { totalCount nodes { id status ` +
    `organization { id } } } }`;
  const EVENT = `query E($id: ID!) { event(id: $id) { id status name } }`;
  const VENUE = `query V($id: ID!) { venue(id: $id) { id events(first: 100) { id status } } }`;
  interface ListData {
    events: { totalCount: number; nodes: { id: string; status: string; organization: { id: string } }[] };
  }

  it(
    "A's warm draft list, draft event and venue events never reach admin B or anonymous, on either " + 'instance',
    async () => {
      const a = headersOf.orgA;
      const b = headersOf.orgB;
      const drafts = { organizationId: fx.orgA, includeDrafts: true };
      // Warm every layer as admin A, on both instances (the second read of each is a cache hit).
      for (const instance of [gw, gw2]) {
        for (let i = 0; i < 2; i++) {
          const list = dataOf(await gql<ListData>(instance.url, LIST, { filter: drafts }, a)).events;
          expect(list.nodes.map((n) => n.id)).toContain(fx.draftA);
          expect(
            dataOf(await gql<{ event: { status: string } | null }>(instance.url, EVENT, { id: fx.draftA }, a)).event
              ?.status,
          ).toBe('DRAFT');
          const venue = dataOf(
            await gql<{ venue: { events: { id: string }[] } }>(instance.url, VENUE, { id: fx.draftVenueA }, a),
          ).venue;
          expect(venue.events.map((e) => e.id)).toContain(fx.draftA);
        }
      }
      // The tenant-scoped list really is in Redis (so what follows is read against a warm cache).
      const redis = rawRedis(inject('redisUrl'));
      await redis.connect();
      try {
        // Fills reach Redis after the answers, and a late invalidation of the fixture (its second delete)
        // may drop one: read again as A until both entries are there.
        let keys: string[] = [];
        const warm = (): boolean =>
          keys.some((k) => k.includes(':EventList@') && k.includes(`t=${fx.orgA}`)) &&
          keys.some((k) => k.includes(':Event@') && k.endsWith(fx.draftA));
        await waitUntil(
          async () => {
            await gql(gw.url, LIST, { filter: drafts }, a);
            await gql(gw.url, EVENT, { id: fx.draftA }, a);
            await sleep(100);
            keys = await keysMatching(redis, `${gw.cachePrefix}:*`);
            return warm();
          },
          10_000,
          async () => `A's list and draft event in Redis:\n${keys.join('\n')}`,
        );
      } finally {
        redis.disconnect();
      }

      const expectedPublic = (
        await sqlRows<{ id: string }>(
          database.url,
          `SELECT id FROM "Event" WHERE "organizationId" = $1 AND status <> 'DRAFT'`,
          [fx.orgA],
        )
      ).map((r) => r.id);

      for (const instance of [gw, gw2]) {
        for (const [who, headers] of [
          ['orgB', b],
          ['customer', headersOf.customer],
          ['anonymous', {}],
        ] as const) {
          // A's drafts by organizationId: refused, no data.
          const refused = await gql<ListData>(instance.url, LIST, { filter: drafts }, headers);
          expect(refused.body.data ?? null, `${who}: ${refused.text}`).toBeNull();
          expect(codesOf(refused).length, who).toBe(1);
          expect(['FORBIDDEN', 'UNAUTHENTICATED']).toContain(codesOf(refused)[0]);
          if (who !== 'anonymous') expect(codesOf(refused)).toEqual(['FORBIDDEN']);
          expect(refused.text).not.toContain(fx.draftA);
          // Asking for DRAFT by status is refused too.
          const byStatus = await gql<ListData>(
            instance.url,
            LIST,
            { filter: { organizationId: fx.orgA, status: 'DRAFT' } },
            headers,
          );
          expect(byStatus.body.data ?? null).toBeNull();
          expect(byStatus.text).not.toContain(fx.draftA);
          // A's public events: no DRAFT, exactly the non-draft ones.
          const open = dataOf(
            await gql<ListData>(instance.url, LIST, { filter: { organizationId: fx.orgA } }, headers),
          ).events;
          expect(open.nodes.map((n) => n.id).sort(), who).toEqual([...expectedPublic].sort());
          expect(open.totalCount).toBe(expectedPublic.length);
          expect(open.nodes.every((n) => n.status !== 'DRAFT')).toBe(true);
          // All public events: no DRAFT of anyone.
          const all = dataOf(await gql<ListData>(instance.url, LIST, {}, headers)).events;
          expect(all.nodes.filter((n) => n.status === 'DRAFT')).toEqual([]);
          // The draft itself: null, not an error.
          const event = await gql<{ event: unknown }>(instance.url, EVENT, { id: fx.draftA }, headers);
          expect(event.body.errors).toBeUndefined();
          expect(event.body.data).toEqual({ event: null });
          // The venue's event list: no draft.
          const venue = dataOf(
            await gql<{ venue: { events: { id: string; status: string }[] } }>(
              instance.url,
              VENUE,
              { id: fx.draftVenueA },
              headers,
            ),
          ).venue;
          expect(venue.events.map((e) => e.id)).not.toContain(fx.draftA);
          expect(venue.events.every((e) => e.status !== 'DRAFT')).toBe(true);
        }
        // B's own draft list holds B's drafts only, never A's.
        const own = dataOf(
          await gql<ListData>(instance.url, LIST, { filter: { organizationId: fx.orgB, includeDrafts: true } }, b),
        ).events;
        expect(own.nodes.every((n) => n.organization.id === fx.orgB)).toBe(true);
        expect(own.nodes.map((n) => n.id)).not.toContain(fx.draftA);
        if (fx.draftB) expect(own.nodes.map((n) => n.id)).toContain(fx.draftB);
        // And A never sees B's draft.
        if (fx.draftB) {
          expect(dataOf(await gql<{ event: unknown }>(instance.url, EVENT, { id: fx.draftB }, a)).event).toBeNull();
          const refused = await gql<ListData>(
            instance.url,
            LIST,
            { filter: { organizationId: fx.orgB, includeDrafts: true } },
            a,
          );
          expect(codesOf(refused)).toEqual(['FORBIDDEN']);
        }
      }
    },
  );
});
