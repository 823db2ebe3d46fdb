// `npm run seed`: fills an empty, migrated database with deterministic demo data (reference data, catalog,
// ticketing, accounts). Also imported by tests and scripts through seedDatabase().
//
// Decisions:
// - Plain pg with unnest() bulk inserts, not Prisma calls: the full scale is ~60k rows and must take seconds.
// - Everything is planned in memory first from fixed-seed PRNG streams and fixed dates, so two runs on
//   empty databases write identical rows (password hashes excepted: their salts are random).
// - One transaction: a failed seed leaves nothing behind. A database that already has organizations is
//   treated as seeded and left alone; an advisory lock makes two concurrent seeders agree on that.
import pg from 'pg';
import { insertCatalog, planCatalog, type CatalogPlan } from './seed/catalog.ts';
import { insertReference, planReference, type ReferencePlan } from './seed/reference.ts';
import {
  insertBookings,
  insertOrganizations,
  insertVenuesEventsSeats,
  planSoldOutBookings,
  planTicketing,
  type BookingPlan,
  type TicketingPlan,
} from './seed/ticketing.ts';
import type { SeedScale } from './seed/types.ts';
import { hashUserPasswords, insertUsers, planUsers, type UserDraft } from './seed/users.ts';

export type { SeedScale } from './seed/types.ts';

/** The password of every seeded user. Demo data only: never seed a reachable production database. */
export const SEED_PASSWORD = 'cachegate-demo-password';

export interface SeedSummary {
  skipped: boolean;
  states: number;
  postcodes: number;
  categories: number;
  products: number;
  organizations: number;
  venues: number;
  events: number;
  seats: number;
  users: number;
  ms: number;
}

export interface SeedOptions {
  databaseUrl: string;
  scale: SeedScale;
  log?: (msg: string, data?: object) => void;
}

type SeedCounts = Omit<SeedSummary, 'skipped' | 'ms'>;

/** Arbitrary constant: "cachegate seed" (the migrator uses 72_413_001). */
const SEED_LOCK_KEY = 72_413_002;

interface SeedPlan {
  reference: ReferencePlan;
  ticketing: TicketingPlan;
  catalog: CatalogPlan;
  users: UserDraft[];
  bookings: BookingPlan;
}

function planSeed(scale: SeedScale): SeedPlan {
  const ticketing = planTicketing(scale);
  const organizationIds = ticketing.organizations.map((o) => o.id);
  const users = planUsers(scale, ticketing.organizations);
  const customerIds = users.filter((u) => u.role === 'CUSTOMER').map((u) => u.id);
  return {
    reference: planReference(),
    ticketing,
    catalog: planCatalog(scale, organizationIds),
    users,
    bookings: planSoldOutBookings(ticketing, customerIds),
  };
}

function plannedCounts(plan: SeedPlan): SeedCounts {
  return {
    states: plan.reference.states.length,
    postcodes: plan.reference.postcodes.length,
    categories: plan.catalog.categories.length,
    products: plan.catalog.products.length,
    organizations: plan.ticketing.organizations.length,
    venues: plan.ticketing.venues.length,
    events: plan.ticketing.events.length,
    seats: plan.ticketing.seats.length,
    users: plan.users.length,
  };
}

async function hasOrganizations(client: pg.ClientBase): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM "Organization" LIMIT 1');
  return (rowCount ?? 0) > 0;
}

async function currentCounts(client: pg.ClientBase): Promise<SeedCounts> {
  const tables: Record<keyof SeedCounts, string> = {
    states: 'State',
    postcodes: 'Postcode',
    categories: 'Category',
    products: 'Product',
    organizations: 'Organization',
    venues: 'Venue',
    events: 'Event',
    seats: 'Seat',
    users: 'User',
  };
  const selects = Object.entries(tables).map(([key, table]) => `(SELECT count(*) FROM "${table}")::int AS "${key}"`);
  const { rows } = await client.query<SeedCounts>(`SELECT ${selects.join(', ')}`);
  const counts = rows[0];
  if (!counts) throw new Error('count query returned no row');
  return counts;
}

async function withTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined); // the original error is the one worth reporting
    throw error;
  }
}

/** Parent rows before children: organizations are referenced by products, users, venues and events. */
async function insertPlan(
  client: pg.ClientBase,
  plan: SeedPlan,
  users: Parameters<typeof insertUsers>[1],
  log: NonNullable<SeedOptions['log']>,
): Promise<void> {
  await insertReference(client, plan.reference);
  log('seed: reference data inserted', {
    states: plan.reference.states.length,
    postcodes: plan.reference.postcodes.length,
  });
  await insertOrganizations(client, plan.ticketing);
  await insertCatalog(client, plan.catalog);
  log('seed: catalog inserted', { categories: plan.catalog.categories.length, products: plan.catalog.products.length });
  await insertUsers(client, users);
  await insertVenuesEventsSeats(client, plan.ticketing);
  await insertBookings(client, plan.bookings);
  log('seed: ticketing inserted', {
    events: plan.ticketing.events.length,
    seats: plan.ticketing.seats.length,
    bookings: plan.bookings.bookings.length,
  });
}

export async function seedDatabase({ databaseUrl, scale, log = () => undefined }: SeedOptions): Promise<SeedSummary> {
  const startedAt = performance.now();
  const elapsed = (): number => Math.round(performance.now() - startedAt);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // Cheap check first, so an already-seeded database does not pay for planning and password hashing.
    if (await hasOrganizations(client)) {
      log('seed: database already has organizations, skipping');
      return { skipped: true, ...(await currentCounts(client)), ms: elapsed() };
    }
    const plan = planSeed(scale);
    log('seed: planned', { scale, ...plannedCounts(plan) });
    // Hashing is slow (scrypt) and needs no database, so it happens before the transaction opens.
    const users = await hashUserPasswords(plan.users, SEED_PASSWORD);
    log('seed: passwords hashed', { users: users.length });

    const seeded = await withTransaction(client, async () => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK_KEY]);
      if (await hasOrganizations(client)) return false; // a concurrent seeder got there first
      await insertPlan(client, plan, users, log);
      return true;
    });
    if (!seeded) {
      log('seed: another seeder filled the database first, skipping');
      return { skipped: true, ...(await currentCounts(client)), ms: elapsed() };
    }
    const summary = { skipped: false, ...plannedCounts(plan), ms: elapsed() };
    log('seed: done', summary);
    return summary;
  } finally {
    await client.end();
  }
}

function parseScale(value: string | undefined): SeedScale {
  if (value === undefined || value === '' || value === 'full') return 'full';
  if (value === 'small') return 'small';
  throw new Error(`SEED_SCALE must be "full" or "small", got ${JSON.stringify(value)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    console.error('DATABASE_URL is not set: nothing to seed');
    process.exit(1);
  }
  const summary = await seedDatabase({ databaseUrl, scale: parseScale(process.env.SEED_SCALE) });
  console.log(JSON.stringify(summary));
}
