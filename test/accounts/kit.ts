// Shared by the accounts and security tests (test/accounts/*, test/security/*): a small GraphQL-over-HTTP
// client that keeps the raw status/headers/text, sign-in helpers, error assertions and a pg helper. No
// mocks: every test runs real gateways over real PostgreSQL and real redis-server.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { expect } from 'vitest';
import { SEED_PASSWORD as SEEDED_USERS_PASSWORD } from '../../prisma/seed.ts';

/** The password of every seeded user (prisma/seed.ts). */
export const SEED_PASSWORD: string = SEEDED_USERS_PASSWORD;

export const EMAILS = {
  platform: 'admin@cachegate.test',
  orgA: 'admin@klcc-live.test',
  orgB: 'admin@penang-arts.test',
  orgC: 'admin@borneo-events.test',
  customer: 'customer1@cachegate.test',
} as const;

export type Headers = Record<string, string>;

export interface GraphQLError {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

export interface Reply<T = Record<string, any>> {
  status: number;
  headers: globalThis.Headers;
  text: string;
  body: { data?: T | null; errors?: GraphQLError[] };
}

/** POSTs one GraphQL operation; keeps status, headers and the raw text (for leak checks). */
export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Headers = {},
): Promise<Reply<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  let body: Reply<T>['body'];
  try {
    body = JSON.parse(text) as Reply<T>['body'];
  } catch {
    throw new Error(`not JSON (HTTP ${response.status}): ${text.slice(0, 300)}`);
  }
  return { status: response.status, headers: response.headers, text, body };
}

export const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });
export const fromIp = (ip: string): Headers => ({ 'x-forwarded-for': ip });

/** Asserts HTTP 200, no errors, data present; returns the data. */
export function dataOf<T>(reply: Reply<T>): T {
  expect(reply.body.errors, JSON.stringify(reply.body.errors)).toBeUndefined();
  expect(reply.status).toBe(200);
  expect(reply.body.data).toBeTruthy();
  return reply.body.data as T;
}

/** The error codes of a reply, in order. */
export const codesOf = (reply: Reply<unknown>): unknown[] => (reply.body.errors ?? []).map((e) => e.extensions?.code);

/** Asserts exactly one error, with `code`; returns it. */
export function errorOf(reply: Reply<unknown>, code: string): GraphQLError {
  expect(codesOf(reply), reply.text.slice(0, 500)).toEqual([code]);
  return reply.body.errors![0]!;
}

const SIGN_IN = /* GraphQL */ `
  mutation SignIn($email: String!, $password: String!) {
    signIn(email: $email, password: $password) { token expiresAt user { id role } }
  }
`;

export interface SignedIn {
  token: string;
  headers: Headers;
  userId: string;
}

export async function signIn(
  url: string,
  email: string,
  password: string = SEED_PASSWORD,
  headers: Headers = {},
): Promise<SignedIn> {
  const data = dataOf(
    await gql<{ signIn: { token: string; user: { id: string } } }>(url, SIGN_IN, { email, password }, headers),
  );
  return { token: data.signIn.token, headers: bearer(data.signIn.token), userId: data.signIn.user.id };
}

export const signInReply = (url: string, email: string, password: string, headers: Headers = {}) =>
  gql<{ signIn: { token: string } }>(url, SIGN_IN, { email, password }, headers);

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

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true or `timeoutMs` passes; returns whether it became true. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** A plain Redis client that fails fast (for looking at what a gateway wrote). */
export function rawRedis(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: () => null,
    lazyConnect: true,
  });
}

/**
 * Waits until a gateway's two Redis connections (main and subscriber, named cachegate-*) are connected
 * to the redis-server at `url` again, e.g. after it was restarted. Stopping a gateway while its
 * subscriber is still reconnecting rejects unhandled (see test/accounts/sessions.test.ts, last test).
 */
export async function gatewayConnected(url: string, timeoutMs = 15_000): Promise<boolean> {
  return eventually(
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
    100,
  );
}
