// Seeded accounts: one platform admin, one admin per organization, and storefront customers whose tiers
// cycle REGULAR, SILVER, GOLD, PLATINUM (customer1 is REGULAR, customer4 PLATINUM, customer5 REGULAR...).
import type pg from 'pg';
import { hashPassword } from '../../src/accounts/password.ts';
import { bulkInsert } from './bulk.ts';
import { rngFor, type Rng } from './random.ts';
import { DAY_MS, HOUR_MS, seedTime } from './time.ts';
import type { OrganizationRow } from './ticketing.ts';
import type { SeedScale } from './types.ts';

const CUSTOMER_COUNT: Readonly<Record<SeedScale, number>> = { full: 50, small: 10 };
const TIERS = ['REGULAR', 'SILVER', 'GOLD', 'PLATINUM'] as const;
/** scrypt costs ~32 MiB and a core per hash: a few at a time keeps a 2-core machine responsive. */
const HASH_CONCURRENCY = 4;

type Role = 'CUSTOMER' | 'ORG_ADMIN' | 'PLATFORM_ADMIN';
type Tier = (typeof TIERS)[number];

export interface UserDraft {
  id: string;
  email: string;
  displayName: string;
  role: Role;
  tier: Tier;
  organizationId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UserRow extends UserDraft {
  passwordHash: string;
}

/** Malaysian names across the Malay, Chinese and Indian naming traditions. */
const MALAY_GIVEN = [
  'Aisyah',
  'Nurul Huda',
  'Siti Aminah',
  'Nur Izzati',
  'Farah',
  'Amirul',
  'Ahmad Faiz',
  'Muhammad Hafiz',
  'Hakim',
  'Zulkifli',
];
const MALAY_FAMILY = ['Rahman', 'Ismail', 'Abdullah', 'Hassan', 'Yusof', 'Osman', 'Ibrahim'];
const CHINESE_FAMILY = ['Tan', 'Lim', 'Lee', 'Wong', 'Ng', 'Chong', 'Ong', 'Goh'];
const CHINESE_GIVEN = ['Wei Ming', 'Mei Ling', 'Jia Hui', 'Kah Seng', 'Xin Yi', 'Zhi Hao', 'Siew Lan', 'Chee Keong'];
const INDIAN_GIVEN = ['Priya', 'Arjun', 'Kavitha', 'Suresh', 'Deepa', 'Ravi', 'Lakshmi', 'Ganesh'];
const INDIAN_FAMILY = ['Subramaniam', 'Krishnan', 'Muthu', 'Rajendran', 'Nair', 'Pillai', 'Raman'];
const NAME_STYLES: readonly ((rng: Rng) => string)[] = [
  (rng) => `${rng.pick(MALAY_GIVEN)} ${rng.pick(MALAY_FAMILY)}`,
  (rng) => `${rng.pick(CHINESE_FAMILY)} ${rng.pick(CHINESE_GIVEN)}`,
  (rng) => `${rng.pick(INDIAN_GIVEN)} ${rng.pick(INDIAN_FAMILY)}`,
];

function userDraft(idRng: Rng, fields: Omit<UserDraft, 'id' | 'updatedAt'>): UserDraft {
  return { id: idRng.uuid(), ...fields, email: fields.email.toLowerCase(), updatedAt: fields.createdAt };
}

export function planUsers(scale: SeedScale, organizations: readonly OrganizationRow[]): UserDraft[] {
  const idRng = rngFor('users.ids');
  const nameRng = rngFor('users.names');
  const users: UserDraft[] = [
    userDraft(idRng, {
      email: 'admin@cachegate.test',
      displayName: 'Platform Admin',
      role: 'PLATFORM_ADMIN',
      tier: 'REGULAR',
      organizationId: null,
      createdAt: seedTime(0),
    }),
  ];
  organizations.forEach((org, i) => {
    users.push(
      userDraft(idRng, {
        email: `admin@${org.slug}.test`,
        displayName: `${org.name} Admin`,
        role: 'ORG_ADMIN',
        tier: 'REGULAR',
        organizationId: org.id,
        createdAt: seedTime(i * HOUR_MS + 30 * 60_000),
      }),
    );
  });
  for (let n = 1; n <= CUSTOMER_COUNT[scale]; n++) {
    users.push(
      userDraft(idRng, {
        email: `customer${n}@cachegate.test`,
        displayName: nameRng.pick(NAME_STYLES)(nameRng),
        role: 'CUSTOMER',
        tier: TIERS[(n - 1) % TIERS.length] ?? 'REGULAR',
        organizationId: null,
        createdAt: seedTime(14 * DAY_MS + n * DAY_MS),
      }),
    );
  }
  return users;
}

/** Salts are random, so password hashes are the one column that differs between two seed runs. */
export async function hashUserPasswords(users: readonly UserDraft[], password: string): Promise<UserRow[]> {
  const rows: UserRow[] = [];
  for (let start = 0; start < users.length; start += HASH_CONCURRENCY) {
    const batch = users.slice(start, start + HASH_CONCURRENCY);
    const hashes = await Promise.all(batch.map(() => hashPassword(password)));
    for (const [i, user] of batch.entries()) rows.push({ ...user, passwordHash: hashes[i] ?? '' });
  }
  return rows;
}

export async function insertUsers(client: pg.ClientBase, users: readonly UserRow[]): Promise<void> {
  await bulkInsert(
    client,
    'User',
    {
      id: 'uuid',
      email: 'text',
      passwordHash: 'text',
      displayName: 'text',
      role: '"Role"',
      tier: '"MemberTier"',
      organizationId: 'uuid',
      createdAt: 'timestamptz',
      updatedAt: 'timestamptz',
    },
    users,
  );
}
