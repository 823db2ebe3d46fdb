// The audit trail for tenants (src/accounts/admin-resolvers.ts, audit-retention.ts), against real
// PostgreSQL and Redis:
// - after admin actions, a staff change and a session revocation in two organizations, each
//   organization admin's auditLog holds only their own organization's entries (and naming another
//   organization is FORBIDDEN), while a platform admin sees both;
// - the retention job deletes only entries older than the retention, and runs on one instance at a time:
//   while another holds the job's advisory lock a run skips, and two concurrent runs delete each row once;
// - a gateway runs the job on its own timer.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { AuditLog } from '../../src/accounts/audit.ts';
import { AuditRetention } from '../../src/accounts/audit-retention.ts';
import { createDatabase, type Database } from '../../src/db/prisma.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { createDatabaseFromTemplate, type TestDatabase } from '../support/database.ts';
import { randomPrefix, startTestGateway, type TestGateway } from '../support/gateway.ts';
import { dataOf, gql, signIn, type Headers, waitUntil } from '../support/kit.ts';
import { EMAILS, errorOf, insertUser, sqlRows } from './kit.ts';

let database: TestDatabase;
let gw: TestGateway;
let orgs: Record<'a' | 'b', { id: string; admin: Headers }>;
const AUDIT = `query L($o: ID) { auditLog(organizationId: $o, first: 100) { action organizationId } }`;
type Entry = { action: string; organizationId: string | null };

beforeAll(async () => {
  database = await createDatabaseFromTemplate(inject('adminDatabaseUrl'), inject('templateDatabase'));
  gw = await startTestGateway({
    databaseUrl: database.url,
    redisUrl: inject('redisUrl'),
    cachePrefix: randomPrefix(),
    env: { AUDIT_RETENTION_DAYS: '30', AUDIT_RETENTION_INTERVAL_SECONDS: '1' },
  });
  const idOf = async (slug: string) =>
    (await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Organization" WHERE slug = $1`, [slug]))[0]!.id;
  orgs = {
    a: { id: await idOf('klcc-live'), admin: (await signIn(gw.url, EMAILS.orgA)).headers },
    b: { id: await idOf('penang-arts'), admin: (await signIn(gw.url, EMAILS.orgB)).headers },
  };
});

afterAll(async () => {
  await gw?.stop();
  await database?.drop();
});

/** Inserts audit rows `daysAgo` old; returns their ids. */
async function oldEntries(count: number, daysAgo: number): Promise<string[]> {
  const rows = await sqlRows<{ id: string }>(
    database.url,
    `INSERT INTO "AuditLog" (action, "organizationId", "createdAt")
     SELECT 'SIGN_IN', $1, now() - make_interval(days => $2) FROM generate_series(1, $3) RETURNING id::text`,
    [orgs.a.id, daysAgo, count],
  );
  return rows.map((r) => r.id);
}

describe("an organization's audit trail", () => {
  it("holds only the organization's own entries for its admin; the platform admin sees every one", async () => {
    for (const org of [orgs.a, orgs.b]) {
      const venue = (
        await sqlRows<{ id: string }>(database.url, `SELECT id FROM "Venue" WHERE "organizationId" = $1 LIMIT 1`, [
          org.id,
        ])
      )[0]!.id;
      dataOf(
        await gql(gw.url, `mutation { updateVenue(id: "${venue}", input: { capacity: 999 }) { id } }`, {}, org.admin),
      );
      const member = await insertUser(database.url, {
        email: `audited-${org.id.slice(0, 8)}@example.test`,
        role: 'BOX_OFFICE',
        organizationId: org.id,
      });
      dataOf(
        await gql(
          gw.url,
          `mutation { updateMemberRole(userId: "${member}", role: CATALOG_MANAGER) { id } }`,
          {},
          org.admin,
        ),
      );
    }
    // A session revocation by a staff member of A.
    const email = 'revoker@klcc-live.test';
    await insertUser(database.url, { email, role: 'BOX_OFFICE', organizationId: orgs.a.id });
    const first = await signIn(gw.url, email);
    const second = await signIn(gw.url, email);
    const ME_SESSIONS = '{ me { sessions { id current } } }';
    const listed = dataOf(
      await gql<{ me: { sessions: { id: string; current: boolean }[] } }>(gw.url, ME_SESSIONS, {}, second.headers),
    );
    const other = listed.me.sessions.find((s) => !s.current)!.id;
    expect(dataOf(await gql(gw.url, `mutation { revokeSession(id: "${other}") }`, {}, second.headers))).toEqual({
      revokeSession: true,
    });
    expect(dataOf(await gql(gw.url, '{ me { id } }', {}, first.headers))).toEqual({ me: null });

    for (const [own, org] of [
      ['a', orgs.a],
      ['b', orgs.b],
    ] as const) {
      const entries = dataOf(await gql<{ auditLog: Entry[] }>(gw.url, AUDIT, {}, org.admin)).auditLog;
      expect(new Set(entries.map((e) => e.organizationId))).toEqual(new Set([org.id]));
      expect(entries.map((e) => e.action)).toEqual(
        expect.arrayContaining(['VENUE_UPDATED', 'MEMBER_ROLE_CHANGED', 'SIGN_IN']),
      );
      if (own === 'a') expect(entries.map((e) => e.action)).toContain('SESSION_REVOKED');
      const otherOrg = own === 'a' ? orgs.b.id : orgs.a.id;
      errorOf(await gql(gw.url, AUDIT, { o: otherOrg }, org.admin), 'FORBIDDEN');
    }
    const platform = (await signIn(gw.url, EMAILS.platform)).headers;
    const all = dataOf(await gql<{ auditLog: Entry[] }>(gw.url, AUDIT, {}, platform)).auditLog;
    expect(all.some((e) => e.organizationId === orgs.a.id) && all.some((e) => e.organizationId === orgs.b.id)).toBe(
      true,
    );
  });
});

describe('audit retention', () => {
  let clients: Database[] = [];
  const logger = createLogger('silent');
  const retentionOn = (db: Database) =>
    new AuditRetention({ db, audit: new AuditLog(db, logger), logger, retentionDays: 30, intervalSeconds: 3600 });
  const remaining = async (ids: string[]) =>
    (
      await sqlRows<{ n: number }>(
        database.url,
        `SELECT count(*)::int AS n FROM "AuditLog" WHERE id = ANY($1::bigint[])`,
        [ids],
      )
    )[0]!.n;

  beforeAll(() => {
    clients = [0, 1].map(() => createDatabase({ url: database.url, poolSize: 2 }));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.$disconnect()));
  });

  it('skips while another holds the lock; concurrent runs delete each old row once; recent rows stay', async () => {
    const [one, two] = clients.map(retentionOn);
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    let old: string[];
    let recent: string[];
    try {
      // Locked before the old rows exist: the gateway's own job (every second) cannot take them either.
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [0x63676175]);
      old = await oldEntries(40, 31);
      recent = await oldEntries(5, 29);
      expect(await one!.runOnce()).toEqual({ ran: false });
      expect(await remaining(old)).toBe(40);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    // Three runs at once, and the gateway's own timer may join them: each row is deleted and counted once.
    const runs = await Promise.all([one!.runOnce(), two!.runOnce(), one!.runOnce()]);
    const deleted = runs.reduce((sum, run) => sum + (run.ran ? run.deleted : 0), 0);
    expect(deleted).toBeLessThanOrEqual(40);
    await waitUntil(async () => (await remaining(old)) === 0, 10_000, 'every old entry to be deleted');
    expect(await remaining(recent)).toBe(5);
    // Each run records what it deleted after its commit: the records add up to exactly the 40 rows.
    const purgedTotal = async () =>
      (
        await sqlRows<{ detail: { deleted: number } }>(
          database.url,
          `SELECT detail FROM "AuditLog" WHERE action = 'AUDIT_PURGED'`,
        )
      ).reduce((sum, r) => sum + r.detail.deleted, 0);
    await waitUntil(async () => (await purgedTotal()) >= 40, 5_000, 'the purge records');
    expect(await purgedTotal()).toBe(40);
  });

  it("runs on the gateway's own timer", async () => {
    const old = await oldEntries(3, 60);
    await waitUntil(async () => (await remaining(old)) === 0, 10_000, 'the retention job to delete old entries');
  });
});
