// What the accounts and security tests add to test/support/kit.ts: the seeded admins' emails, error
// assertions, a pg helper and waiting for a gateway to reconnect to Redis.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { expect } from 'vitest';
import { type GraphQLError, type Headers, type Reply, rawRedis, waitUntil } from '../support/kit.ts';

export const EMAILS = {
  platform: 'admin@cachegate.test',
  orgA: 'admin@klcc-live.test',
  orgB: 'admin@penang-arts.test',
  orgC: 'admin@borneo-events.test',
  customer: 'customer1@cachegate.test',
} as const;

export const fromIp = (ip: string): Headers => ({ 'x-forwarded-for': ip });

/** The error codes of a reply, in order. */
export const codesOf = (reply: Reply<unknown>): unknown[] => (reply.body.errors ?? []).map((e) => e.extensions?.code);

/** Asserts exactly one error, with `code`; returns it. */
export function errorOf(reply: Reply<unknown>, code: string): GraphQLError {
  expect(codesOf(reply), reply.text.slice(0, 500)).toEqual([code]);
  return reply.body.errors![0]!;
}

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

import { withPg } from '../support/database.ts';

export { withPg };

export async function sqlRows<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return withPg(url, async (client) => (await client.query<T>(text, params)).rows);
}

/**
 * Waits until a gateway's two Redis connections (main and subscriber, named cachegate-*) are connected
 * to the redis-server at `url` again, e.g. after it was restarted. Stopping a gateway while its
 * subscriber is still reconnecting rejects unhandled (see test/accounts/sessions.test.ts, last test).
 */
export async function gatewayConnected(url: string, timeoutMs = 15_000): Promise<boolean> {
  return waitUntil(
    async () => {
      const client = rawRedis(url);
      client.on('error', () => undefined);
      try {
        await client.connect();
        const list = String(await client.call('CLIENT', 'LIST'));
        return list.includes('name=cachegate-main') && list.includes('name=cachegate-subscriber');
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    },
    timeoutMs,
    'the gateway to reconnect to Redis',
    100,
  ).then(
    () => true,
    () => false,
  );
}

/**
 * Inserts a user with the seeded users' password (copied from a seeded user's hash), as staff of an
 * organization or as a customer; returns the id.
 */
export async function insertUser(
  url: string,
  user: { email: string; role: string; organizationId: string | null },
): Promise<string> {
  const rows = await sqlRows<{ id: string }>(
    url,
    `INSERT INTO "User" (id, email, "passwordHash", "displayName", role, "organizationId", "updatedAt")
     SELECT gen_random_uuid(), $1, "passwordHash", 'staff', $2::"Role", $3, now()
       FROM "User" WHERE email = $4 RETURNING id`,
    [user.email, user.role, user.organizationId, EMAILS.customer],
  );
  return rows[0]!.id;
}
