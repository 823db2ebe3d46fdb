// Starts a real gateway in the test process (real PostgreSQL, optionally real Redis) on a free port, and
// a small GraphQL-over-HTTP client for it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/server/app.ts';

export interface TestGatewayOptions {
  databaseUrl: string;
  redisUrl?: string;
  /** Cache prefix; defaults to a random one so files sharing the run's Redis never see each other's keys. */
  cachePrefix?: string;
  env?: Record<string, string>;
  /** Extra Apollo plugins, e.g. a resolver counter (resolverCounter below). */
  plugins?: GatewayOptions['plugins'];
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: T | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

export interface TestGateway extends Gateway {
  cachePrefix: string;
  /** Every SQL statement this gateway sent, in order (from Prisma's query events); clear it with `sql.length = 0`. */
  sql: string[];
  query<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
}

export function randomPrefix(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const cachePrefix = options.cachePrefix ?? randomPrefix();
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: options.databaseUrl,
    CACHE_PREFIX: cachePrefix,
    SEED_ON_EMPTY: 'false',
    // Tests send bursts from one address; tests of the limits themselves set their own numbers.
    RATE_LIMIT_READS_PER_MINUTE: '1000000',
    RATE_LIMIT_WRITES_PER_MINUTE: '1000000',
    RATE_LIMIT_HOLDS_PER_MINUTE: '1000000',
    RATE_LIMIT_SIGNINS_PER_MINUTE: '1000000',
    RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: '1000000',
    WS_MAX_SOCKETS_PER_IP: '100000',
    QUERY_MAX_ALIASES: '200',
    QUERY_MAX_TOKENS: '20000',
    QUERY_MAX_COST: '100000',
    ...(options.redisUrl && { REDIS_URL: options.redisUrl }),
    ...options.env,
  });
  const sql: string[] = [];
  const gateway = await startGateway(config, {
    onQuery: (statement) => sql.push(statement),
    ...(options.plugins && { plugins: options.plugins }),
  });
  return {
    ...gateway,
    cachePrefix,
    sql,
    async query(query, variables, headers) {
      const response = await fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as GraphQLResponse['body'],
      };
    },
  } as TestGateway;
}

/**
 * A gateway for the tests of one describe block (or file, at the top level): started before them, with
 * options read when it starts (so they may use values another beforeAll set), and stopped after them.
 */
export function useTestGateway(options: () => TestGatewayOptions): () => TestGateway {
  let gateway: TestGateway | undefined;
  beforeAll(async () => {
    gateway = await startTestGateway(options());
  });
  afterAll(async () => {
    await gateway?.stop();
  });
  return () => {
    if (!gateway) throw new Error('the gateway is not started (call useTestGateway in a describe block or at the top)');
    return gateway;
  };
}
