// The helpers every test area uses: a GraphQL-over-HTTP client that keeps the raw reply, dataOf, sign-in,
// a raw Redis client, and waiting. Area kits (test/cache/kit.ts, test/accounts/kit.ts,
// test/queries/helpers.ts) add only what their area needs. No mocks: every test runs real gateways over
// real PostgreSQL and real redis-server.
import { Cluster, Redis as SingleRedis } from 'ioredis';
import type { Redis } from '../../src/redis/connection.ts';
import { parseRedisTarget } from '../../src/redis/redis-address.ts';
import { scanAll } from '../../src/redis/slots.ts';
import { expect } from 'vitest';
import { SEED_PASSWORD as SEEDED_USERS_PASSWORD } from '../../prisma/seed.ts';

export { sleep, waitUntil } from './wait.ts';

/** The password of every seeded user (prisma/seed.ts). */
export const SEED_PASSWORD: string = SEEDED_USERS_PASSWORD;

export const PLATFORM_ADMIN_EMAIL = 'admin@cachegate.test';

export type Headers = Record<string, string>;

import type { GraphQLResponse } from './gateway.ts';

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

/** Asserts HTTP 200 with data and no errors; returns the data. Takes a Reply or a TestGateway response. */
export function dataOf<T>(reply: Reply<T>): T;
export function dataOf<T>(reply: GraphQLResponse<T>): T;
export function dataOf<T>(reply: { status: number; body: { data?: T | null; errors?: unknown[] } }): T {
  expect(reply.body.errors, JSON.stringify(reply.body.errors)).toBeUndefined();
  expect(reply.status).toBe(200);
  expect(reply.body.data).toBeTruthy();
  return reply.body.data as T;
}

export const bearer = (token: string): Headers => ({ authorization: `Bearer ${token}` });

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

/** Signs in a seeded user at the gateway `url`; `headers` are the headers to send as that user. */
export async function signIn(
  url: string,
  email: string = PLATFORM_ADMIN_EMAIL,
  password: string = SEED_PASSWORD,
  headers: Headers = {},
): Promise<SignedIn> {
  const data = dataOf(
    await gql<{ signIn: { token: string; user: { id: string } } }>(url, SIGN_IN, { email, password }, headers),
  );
  return { token: data.signIn.token, headers: bearer(data.signIn.token), userId: data.signIn.user.id };
}

/** The sign-in reply itself, for tests of refusals. */
export const signInReply = (url: string, email: string, password: string, headers: Headers = {}) =>
  gql<{ signIn: { token: string } }>(url, SIGN_IN, { email, password }, headers);

/** A plain Redis client that fails fast, for looking at what a gateway wrote and planting values. */
export function rawRedis(url: string): Redis {
  const options = { maxRetriesPerRequest: 1, connectTimeout: 2_000, retryStrategy: () => null };
  const target = parseRedisTarget(url);
  if (target.kind === 'cluster') return new Cluster(target.nodes, { lazyConnect: true, redisOptions: options });
  if (target.kind === 'sentinel')
    return new SingleRedis({ ...options, sentinels: target.sentinels, name: target.name, lazyConnect: true });
  return new SingleRedis(url, { ...options, lazyConnect: true });
}

/** Every key matching `pattern`, from every master of a cluster. */
export async function keysMatching(redis: Redis, pattern: string): Promise<string[]> {
  const found: string[] = [];
  await scanAll(redis, pattern, (keys) => void found.push(...keys));
  return found;
}
