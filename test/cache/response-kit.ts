// Shared by the response cache tests: a resolver counter (an Apollo plugin), raw HTTP requests that keep
// the response headers, and a count of the stored answers in Redis.
import type { ApolloServerPlugin } from '@apollo/server';
import type { Redis } from '../../src/redis/connection.ts';
import { keysMatching } from '../support/kit.ts';
import type { GatewayContext } from '../../src/graphql/context.ts';
import type { TestGateway } from './kit.ts';

export interface ResolverCounter {
  /** Resolver calls (every field) since the last reset. */
  calls: number;
  /** Root fields of executed operations, e.g. { product: 3 }. */
  roots: Record<string, number>;
  reset(): void;
  plugin: ApolloServerPlugin<GatewayContext>;
}

export function resolverCounter(): ResolverCounter {
  const counter: ResolverCounter = {
    calls: 0,
    roots: {},
    reset() {
      counter.calls = 0;
      counter.roots = {};
    },
    plugin: {
      async requestDidStart() {
        return {
          async executionDidStart() {
            return {
              willResolveField({ info }) {
                counter.calls += 1;
                if (info.parentType.name === 'Query')
                  counter.roots[info.fieldName] = (counter.roots[info.fieldName] ?? 0) + 1;
              },
            };
          },
        };
      },
    },
  };
  return counter;
}

export interface RawAnswer {
  status: number;
  cache: string | null;
  cacheControl: string | null;
  etag: string | null;
  text: string;
  json: { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** POSTs a query and keeps the headers the response cache sets. */
export async function post(
  gateway: TestGateway,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const response = await fetch(gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return answerOf(response);
}

export async function answerOf(response: Response): Promise<RawAnswer> {
  const text = await response.text();
  return {
    status: response.status,
    cache: response.headers.get('x-cache'),
    cacheControl: response.headers.get('cache-control'),
    etag: response.headers.get('etag'),
    text,
    json: text ? JSON.parse(text) : {},
  };
}

/** Stored answers in Redis under the gateway's prefix (SCAN: fine for a test's few hundred keys). */
export async function storedAnswers(redis: Redis, prefix: string): Promise<string[]> {
  return (await keysMatching(redis, `${prefix}:rc@e:*`)).sort();
}
