// The composition root: the one place where configuration becomes clients, caches, the schema and the
// servers. Everything is created once here and passed down; nothing below reaches for a global.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { Config } from '../config.ts';
import type { CacheHooks } from '../cache/cache-hooks.ts';
import { readTtlPolicy } from '../cache/ttl-policy.ts';
import { EntityCache } from '../cache/entity-cache.ts';
import { createKeyBuilder, readPrismaSchemaText, type KeyBuilder } from '../cache/keys.ts';
import { L1Cache } from '../cache/l1-cache.ts';
import { createLoaderRuntime, type RequestStats } from '../cache/loader-factory.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded-postgres.ts';
import { applyMigrations } from '../db/migrator.ts';
import { createDatabase, type Database } from '../db/prisma.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { createLoaderFactory } from '../graphql/loaders.ts';
import { buildSchema } from '../graphql/schema.ts';
import type { Services } from '../graphql/services.ts';
import { AccountService } from '../accounts/account-service.ts';
import { SessionService } from '../accounts/sessions.ts';
import { StaffService } from '../accounts/staff-service.ts';
import { PasswordResetService } from '../accounts/password-reset.ts';
import { SelfService } from '../accounts/self-service.ts';
import { TenantCache } from '../accounts/tenant-cache.ts';
import { createMailer } from '../accounts/mailer.ts';
import { AuditRetention } from '../accounts/audit-retention.ts';
import { viewerFrom } from '../accounts/viewer.ts';
import { AuditLog } from '../accounts/audit.ts';
import { SignInLockout } from '../accounts/lockout.ts';
import { createLimiterFactory, type LimiterFactory } from '../limits/limiter-factory.ts';
import { queryLimits } from '../limits/query-limits.ts';
import { rateLimitPlugin, RateLimits } from '../limits/rate-limits.ts';
import { clientIpOf } from './client-ip.ts';
import { ProductService } from '../commerce/product-service.ts';
import { WishlistService } from '../commerce/wishlist-service.ts';
import { VenueEventService } from '../ticketing/venue-event-service.ts';
import { createInProcessBus, createRedisBus, type EventBus } from '../realtime/event-bus.ts';
import { RedisCircuit } from '../redis/circuit-breaker.ts';
import { createRedisConnection, waitUntilReady, type Redis } from '../redis/connection.ts';
import {
  errorPlugin,
  metricsPlugin,
  privateWhenSignedIn,
  requestLogPlugin,
  subscriptionsOverWebSocketOnly,
} from './apollo-plugins.ts';
import { maskError } from '../infra/errors.ts';
import { checkReadiness } from './health.ts';
import { createHttpServer } from './http-server.ts';
import { createLogger, type Logger } from '../infra/logger.ts';
import { createMetrics, type Metrics } from '../infra/metrics.ts';
import { attachWebSocket } from './websocket.ts';
import { permissionPlugin } from './permission-plugin.ts';

/** Cache types whose entries hold another model's shape: their key version follows that model. */
const CACHE_TYPE_MODELS: Record<string, string[]> = {
  CategoryTree: ['Category'],
  MemberPrice: ['MemberPrice'],
  ProductList: ['Product'],
  ProductCount: ['Product'],
  'Event.seats': ['Seat'],
  'Venue.events': ['Event'],
  'Organization.venues': ['Venue'],
  EventList: ['Event'],
  EventCount: ['Event'],
  StateList: ['State'],
  Postcode: ['Postcode'],
  'State.cities': ['Postcode'],
};

/** How long start-up waits for Redis before serving without it. */
const REDIS_START_WAIT_MS = 3_000;

/** L1 never keeps an entry longer than this, whatever its schema TTL (see l1-cache.ts). */
const L1_MAX_TTL_SECONDS = 60;

export interface Gateway {
  url: string;
  port: number;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  cache: EntityCache;
  stop(): Promise<void>;
}

interface RedisClients {
  main: Redis;
  subscriber: Redis;
  circuit: RedisCircuit;
}

async function prepareDatabase(
  config: Config,
  logger: Logger,
  closers: (() => unknown)[],
): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    const started = await startEmbeddedPostgres({ ...config.embeddedPostgres, logger });
    closers.push(() => started.stop());
    embedded = started;
    url = started.url;
  }
  const { applied } = await applyMigrations(url);
  if (applied.length) logger.info({ applied }, 'database migrations applied');
  if (config.seedOnEmpty) {
    // Imported lazily: the seed program and its data are not needed on a normal start.
    const { seedDatabase } = await import('../../prisma/seed.ts');
    const summary = await seedDatabase({
      databaseUrl: url,
      scale: config.seedScale,
      log: (msg, data) => logger.debug(data ?? {}, msg),
    });
    if (!summary.skipped)
      logger.info({ products: summary.products, events: summary.events, ms: summary.ms }, 'empty database seeded');
  }
  return { url, ...(embedded && { embedded }) };
}

async function connectRedis(url: string, logger: Logger): Promise<RedisClients> {
  const main = createRedisConnection({ url, name: 'main', logger });
  const subscriber = createRedisConnection({ url, name: 'subscriber', logger, commandTimeoutMs: 5_000 });
  if (!(await waitUntilReady(main, REDIS_START_WAIT_MS)))
    logger.warn('redis not reachable at start: serving from L1 and PostgreSQL until it is');
  return { main, subscriber, circuit: new RedisCircuit(main, { logger }) };
}

/** The cache and the circuit report through hooks and events; here they become metrics. */
function observeCache(metrics: Metrics, circuit: RedisCircuit | undefined): CacheHooks {
  metrics.redisCircuitOpen.set(circuit?.state === 'open' ? 1 : 0);
  circuit?.on('state', (state) => metrics.redisCircuitOpen.set(state === 'open' ? 1 : 0));
  circuit?.on('failure', (operation) => metrics.redisErrors.inc({ operation }));
  return {
    lookups: (layer, type, result, count) => metrics.cacheLookups.inc({ layer, type, result }, count),
    batch: (type, size) => metrics.loaderBatchSize.observe({ type }, size),
  };
}

export interface GatewayOptions {
  logger?: Logger;
  /** Sees every SQL statement Prisma sends (tests count them; production needs none). */
  onQuery?: (sql: string) => void;
}

/** The services resolvers reach through the context: created once, shared by every request. */
function createServices(
  config: Config,
  deps: {
    db: Database;
    cache: EntityCache;
    keys: KeyBuilder;
    bus: EventBus;
    redis: RedisClients | undefined;
    metrics: Metrics;
    logger: Logger;
    limiters: LimiterFactory;
  },
): Services {
  const { db, cache, keys, bus, redis, logger, limiters } = deps;
  const sessions = new SessionService({
    db,
    redis: redis?.circuit,
    cache,
    prefix: config.cachePrefix,
    ttlSeconds: config.sessionTtlSeconds,
    maxPerUser: config.operations.sessionsMaxPerUser,
  });
  const audit = new AuditLog(db, logger, bus);
  const ops = config.operations;
  const passwordResets = new PasswordResetService({
    db,
    sessions,
    audit,
    mailer: createMailer({ smtpUrl: ops.smtpUrl, from: ops.mailFrom, logger }),
    logger,
    ttlSeconds: ops.passwordResetTtlSeconds,
    resetUrl: ops.passwordResetUrl,
  });
  return {
    bus,
    sessions,
    audit,
    staff: new StaffService({ db, sessions, audit, cache, keys }),
    passwordResets,
    selfService: new SelfService({ db, sessions, audit }),
    tenantCache: new TenantCache({ db, cache, keys, redis: redis?.circuit, prefix: config.cachePrefix }),
    accounts: new AccountService({ db, sessions, audit, lockout: new SignInLockout(limiters, config.lockout) }),
    products: new ProductService({ db, cache, keys, bus, logger }),
    wishlist: new WishlistService(db),
    venues: new VenueEventService({ db, cache, keys }),
    cache,
    cacheMode: redis ? 'redis' : 'in-process',
  };
}

/** Apollo Server with its plugins: each concern (limits, metrics, logs, errors) is one plugin. */
function createApollo(
  config: Config,
  deps: {
    schema: GraphQLSchema;
    httpServer: Server;
    armor: ReturnType<typeof queryLimits>;
    rateLimits: RateLimits;
    metrics: Metrics;
    logger: Logger;
  },
) {
  return new ApolloServer<GatewayContext>({
    schema: deps.schema,
    validationRules: deps.armor.validationRules,
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    allowBatchedHttpRequests: false,
    // Automatic persisted queries would live in each instance's memory (not shared), and their errors
    // carry no code; a shared query store belongs with a response cache, should one be added.
    persistedQueries: false,
    // Shutdown is ours (src/main.ts); Apollo's own handler would re-raise the signal mid-drain.
    stopOnTerminationSignals: false,
    introspection: config.env !== 'production',
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => maskError(formatted, unwrapResolverError(error), undefined).error,
    plugins: [
      ApolloServerPluginDrainHttpServer({
        httpServer: deps.httpServer,
        stopGracePeriodMillis: config.shutdownTimeoutMs,
      }),
      ...(config.env === 'production' ? [ApolloServerPluginLandingPageDisabled()] : []),
      ...(deps.armor.plugins as ApolloServerPlugin<GatewayContext>[]),
      subscriptionsOverWebSocketOnly(),
      privateWhenSignedIn(),
      permissionPlugin(deps.schema),
      rateLimitPlugin(deps.rateLimits),
      metricsPlugin(deps.metrics),
      requestLogPlugin(deps.logger),
      errorPlugin(),
    ],
  });
}

function listen(server: Server, config: Config): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // What has been started, to be closed in reverse order: on stop, and also when start-up fails halfway
  // (an embedded PostgreSQL must not outlive a gateway that never came up).
  const closers: (() => unknown)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse())
      await Promise.resolve()
        .then(close)
        .catch((error: unknown) => logger.warn({ err: error }, 'error while closing'));
    closers.length = 0;
  };
  try {
    return await startServing(config, options, logger, closers, closeAll);
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function startServing(
  config: Config,
  options: GatewayOptions,
  logger: Logger,
  closers: (() => unknown)[],
  closeAll: () => Promise<void>,
): Promise<Gateway> {
  const metrics = createMetrics();

  // Data stores: PostgreSQL (migrated, maybe seeded), then Redis or its in-process stand-ins.
  const database = await prepareDatabase(config, logger, closers);
  const onQuery = (sql: string): void => {
    metrics.dbQueries.inc();
    options.onQuery?.(sql);
  };
  const db = createDatabase({ url: database.url, poolSize: config.databasePoolSize, onQuery });
  closers.push(() => db.$disconnect());
  let redis: RedisClients | undefined;
  let bus: EventBus;
  if (config.redisUrl) {
    const clients = await connectRedis(config.redisUrl, logger);
    redis = clients;
    closers.push(() => Promise.allSettled([clients.main.quit(), clients.subscriber.quit()]));
    closers.push(() => clients.circuit.dispose());
    bus = createRedisBus(redis.circuit, redis.subscriber, config.cachePrefix);
  } else {
    logger.info('no REDIS_URL: running as a single instance with the in-process cache and in-process pub/sub');
    bus = createInProcessBus();
  }
  closers.push(() => bus.close());

  // The cache layers and the per-request loaders over them.
  const l1 = new L1Cache({ maxBytes: config.l1MaxBytes, maxTtlSeconds: L1_MAX_TTL_SECONDS });
  const keys = createKeyBuilder(config.cachePrefix, readPrismaSchemaText(), CACHE_TYPE_MODELS);
  const hooks = observeCache(metrics, redis?.circuit);
  const cache = new EntityCache({ l1, redis: redis?.circuit, bus, prefix: config.cachePrefix, hooks, logger });
  // Subscribed before serving when Redis is up; without it, serve anyway and subscribe when it returns.
  closers.push(() => cache.stop());
  await Promise.race([cache.start(), new Promise((resolve) => setTimeout(resolve, REDIS_START_WAIT_MS).unref())]);
  const schema = buildSchema();
  const createLoaders = createLoaderFactory(db, createLoaderRuntime({ cache, keys, hooks }), readTtlPolicy(schema));

  // Services and the per-request context.
  if (!config.keyHashSecret && config.env === 'production')
    logger.warn('KEY_HASH_SECRET is not set: rate-limit keys use a built-in secret');
  const limiters = createLimiterFactory(
    redis?.circuit,
    config.cachePrefix,
    config.keyHashSecret ?? `cachegate:${config.cachePrefix}`,
  );
  const services = createServices(config, { db, cache, keys, bus, redis, metrics, logger, limiters });
  closers.push(() => services.passwordResets.stop()); // mails under way are finished before the pool closes
  const retention = new AuditRetention({
    db,
    audit: services.audit,
    logger,
    retentionDays: config.operations.auditRetentionDays,
    intervalSeconds: config.operations.auditRetentionIntervalSeconds,
  });
  retention.start();
  closers.push(() => retention.stop());
  const createContext = async (
    requestId: string,
    headers: Record<string, string | string[] | undefined>,
    remoteAddress: string | undefined,
  ): Promise<GatewayContext> => {
    const stats: RequestStats = { loaderFetches: 0 };
    // Most requests log nothing: the child logger is made on first use, not on every request.
    let requestLogger: Logger | undefined;
    const requestLog = (): Logger => (requestLogger ??= logger.child({ requestId }));
    const viewer = await viewerFrom(services.sessions, headers.authorization, requestId).catch((error: unknown) => {
      // Apollo answers a failed context without running our plugins: log it here, under the request id.
      requestLog().warn({ err: error }, 'could not identify the viewer');
      throw error;
    });
    return {
      requestId,
      get logger() {
        return requestLog();
      },
      stats,
      loaders: createLoaders(stats),
      services,
      viewer,
      userAgent: typeof headers['user-agent'] === 'string' ? headers['user-agent'] : undefined,
      clientIp: clientIpOf(headers, remoteAddress, config.trustProxy),
    };
  };

  // Servers: HTTP (Apollo, health, metrics) and graphql-ws on the same port.
  let draining = false;
  let apollo: ApolloServer<GatewayContext> | undefined;
  const httpServer = createHttpServer({
    apollo: () => apollo!, // set below: Apollo's drain plugin needs the HTTP server first
    createContext,
    readiness: () => checkReadiness({ db, redis: redis?.circuit, draining }),
    registry: metrics.registry,
    logger,
  });
  const armor = queryLimits(config.queryLimits);
  const rateLimits = new RateLimits(limiters, config.rateLimits);
  apollo = createApollo(config, { schema, httpServer, armor, rateLimits, metrics, logger });
  await apollo.start();
  closers.push(() => apollo!.stop()); // the drain plugin stops accepting and waits for in-flight requests
  // Listening before graphql-ws attaches: a taken port is then one error for main.ts to explain, not
  // also a report from the WebSocket server, which re-emits the HTTP server's errors.
  const port = await listen(httpServer, config);
  const webSocket = attachWebSocket({
    server: httpServer,
    schema,
    createContext,
    validationRules: armor.validationRules,
    maxTokens: config.queryLimits.maxTokens,
    rateLimits,
    metrics,
    logger,
  });
  closers.push(() => webSocket.close());
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}/graphql`;
  logger.info(
    { url, cache: redis ? 'redis' : 'in-process', database: database.embedded ? 'embedded' : 'external' },
    'cachegate ready',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      logger.info('shutting down: closing websockets, finishing in-flight requests');
      await closeAll();
      logger.info('shutdown complete');
    })();
    return stopping;
  };

  return { url, port, logger, metrics, db, cache, stop };
}
