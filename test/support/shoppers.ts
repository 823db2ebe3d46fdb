// Signed-in customers made straight in PostgreSQL: a User row and a Session row whose token we know
// (only its SHA-256 is stored, as src/accounts/sessions.ts does). 100 scrypt sign-ins would take longer
// than the tests and bench runs that need 100 shoppers. No vitest import: the bench uses it too.
import { createHash, randomBytes } from 'node:crypto';
import { withPg } from './database.ts';

export type Tier = 'REGULAR' | 'SILVER' | 'GOLD' | 'PLATINUM';

export interface Shopper {
  userId: string;
  headers: Record<string, string>;
}

/** `count` new customers of `tier`, each with a session valid for an hour. */
export async function createShoppers(databaseUrl: string, count: number, tier: Tier = 'REGULAR'): Promise<Shopper[]> {
  const run = randomBytes(4).toString('hex');
  const tokens = Array.from({ length: count }, () => randomBytes(32).toString('base64url'));
  const hashes = tokens.map((token) => createHash('sha256').update(token).digest('hex'));
  const users = await withPg(databaseUrl, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO "User" (id, email, "passwordHash", "displayName", role, tier, "createdAt", "updatedAt")
       SELECT gen_random_uuid(), 'shopper-' || $1 || '-' || n || '@example.test', 'not-a-hash', 'Shopper ' || n,
              'CUSTOMER', $3::"MemberTier", now(), now()
         FROM generate_series(1, $2::int) AS n ORDER BY n RETURNING id`,
      [run, count, tier],
    );
    await client.query(
      `INSERT INTO "Session" (id, "tokenHash", "userId", "createdAt", "lastSeenAt", "expiresAt")
       SELECT gen_random_uuid(), t.hash, t."userId", now(), now(), now() + interval '1 hour'
         FROM unnest($1::text[], $2::uuid[]) AS t(hash, "userId")`,
      [hashes, rows.map((r) => r.id)],
    );
    return rows;
  });
  return users.map((u, i) => ({ userId: u.id, headers: { authorization: `Bearer ${tokens[i]}` } }));
}
