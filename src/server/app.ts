// The composition root: the one place where configuration becomes clients, caches, the schema and the
// servers. Everything is created once here and passed down; nothing below reaches for a global.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLSchema } from 'graphql';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { Config } from '../config.ts';
import type { CacheHooks } from '../cache/cache-hooks.ts';
import { readTtlPolicy } from '../cache/ttl-policy.ts';
import { EntityCache } from '../cache/entity-cache.ts';
import { createKeyBuilder, readPrismaSchemaText, type KeyBuilder } from '../cache/keys.ts';
import { L1Cache } from '../cache/l1-cache.ts';
import { createLoaderRuntime, type RequestStats } from '../cache/loader-factory.ts';
import { ResponseCache, responseCachePlugin } from '../cache/response-cache/response-cache.ts';
import { ResponseStore } from '../cache/response-cache/response-store.ts';
import { HitPath } from '../cache/response-cache/hit-path.ts';
import { invalidateChanges } from '../cache/change-invalidations.ts';
import { startChangeFeed } from '../db/change-feed.ts';
import { inventoryTopic } from '../commerce/inventory.ts';
import { PersistedOperations, readManifest } from '../cache/response-cache/persisted-operations.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded-postgres.ts';
import { applyMigrations } from '../db/migrator.ts';
import { createDatabase, type Database } from '../db/prisma.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { createLoaderFactory } from '../graphql/loaders.ts';
import { buildSchema } from '../graphql/schema.ts';
import { readStaleGraces } from '../cache/response-cache/stale-grace.ts';
import { cacheHintsPlugin, recordCacheHints } from '../graphql/cache-hints.ts';
import type { Services } from '../graphql/services.ts';
import { AccountService } from '../accounts/account-service.ts';
import { SessionService, type SessionsEnded } from '../accounts/sessions.ts';
import { StaffService } from '../accounts/staff-service.ts';
import { PasswordResetService } from '../accounts/password-reset.ts';
import { SelfService } from '../accounts/self-service.ts';
import { TenantCache } from '../accounts/tenant-cache.ts';
import { TenantLookups } from '../accounts/tenant-lookups.ts';
import { createMailer } from '../accounts/mailer.ts';
import { AuditRetention } from '../accounts/audit-retention.ts';
import { PermissionRefusedError } from '../accounts/account-errors.ts';
import { checkOperation } from '../accounts/permissions/check.ts';
import { viewerFrom } from '../accounts/viewer.ts';
import { AuditLog } from '../accounts/audit.ts';
import { SignInLockout } from '../accounts/lockout.ts';
import { createLimiterFactory, type LimiterFactory } from '../limits/limiter-factory.ts';
import { queryLimits } from '../limits/query-limits.ts';
import { RateLimits } from '../limits/rate-limits.ts';
import { ExecutionBudgets, guardSchema, tolerateAbandonedBudgetBranches } from '../limits/execution-guard.ts';
import { OperationGuard } from '../limits/operation-guard.ts';
import { clientIpOf } from './client-ip.ts';
import { WishlistService } from '../commerce/wishlist-service.ts';
import { createStorefrontServices, type StorefrontDeps } from '../commerce/storefront-services.ts';
import { VenueEventService } from '../ticketing/venue-event-service.ts';
import { createTicketing } from '../ticketing/ticketing.ts';
import { createInProcessBus, createRedisBus, type EventBus } from '../realtime/event-bus.ts';
import { RedisCircuit } from '../redis/circuit-breaker.ts';
import { closeRedis, createRedisConnection, waitUntilReady, type Redis } from '../redis/connection.ts';
import { isCluster } from '../redis/slots.ts';
import { errorPlugin, guardPlugin, privateWhenSignedIn, subscriptionsOverWebSocketOnly } from './apollo-plugins.ts';
import { maskError, RetryLaterError } from '../infra/errors.ts';
import { checkReadiness } from './health.ts';
import { createHttpServer, createMetricsServer } from './http-server.ts';
import { DirectExecution } from './direct-execution.ts';
import { createLogger, type Logger } from '../infra/logger.ts';
import { createMetrics, type Metrics } from '../infra/metrics.ts';
import { attachWebSocket } from './websocket.ts';
import { loadStaticApp } from './static-app.ts';
import type { WorkerLink } from './cluster-worker.ts';

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
  ShippingZoneList: ['ShippingZone'],
};

/** Bus topic of SessionService's onEnded: sessions whose sockets every instance closes. */
const SESSIONS_ENDED_TOPIC = 'sessions-ended';

/** How long start-up waits for Redis before serving without it. */
const REDIS_START_WAIT_MS = 3_000;

/** L1 never keeps an entry longer than this, whatever its schema TTL (see l1-cache.ts). */
const L1_MAX_TTL_SECONDS = 60;

export interface Gateway {
  url: string;
  port: number;
  /** The port of /metrics when METRICS_PORT is set. */
  metricsPort: number | undefined;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  cache: EntityCache;
  /** The response cache's stored answers; absent when RESPONSE_CACHE is off. */
  responses: ResponseStore | undefined;
  stop(): Promise<void>;
}

interface RedisClients {
  main: Redis;
  subscriber: Redis;
  circuit: RedisCircuit;
}

/** Exported for the primary of several workers, which prepares the database once before forking them. */
export async function prepareDatabase(
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
function observeCache(metrics: Metrics, circuit: RedisCircuit | undefined, tenants: TenantLookups): CacheHooks {
  metrics.redisCircuitOpen.set(circuit?.state === 'open' ? 1 : 0);
  circuit?.on('state', (state) => metrics.redisCircuitOpen.set(state === 'open' ? 1 : 0));
  circuit?.on('failure', (operation) => metrics.redisErrors.inc({ operation }));
  return {
    lookups: (layer, type, result, count) => metrics.cacheLookups.inc({ layer, type, result }, count),
    batch: (type, size) => metrics.loaderBatchSize.observe({ type }, size),
    tenantLookups: (organizationId, hits, misses) => tenants.record(organizationId, hits, misses),
  };
}

export interface GatewayOptions {
  logger?: Logger;
  /** Sees every SQL statement Prisma sends (tests count them; production needs none). */
  onQuery?: (sql: string) => void;
  /** Extra Apollo plugins (tests count resolver calls with one). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /** In a worker of several on one port (src/server/cluster.ts): what it shares through the primary. */
  worker?: WorkerLink;
}

/** The services resolvers reach through the context: created once, shared by every request. */
function createServices(
  config: Config,
  deps: {
    db: Database;
    backgroundDb: Database;
    cache: EntityCache;
    keys: KeyBuilder;
    bus: EventBus;
    redis: RedisClients | undefined;
    logger: Logger;
    limiters: LimiterFactory;
    createLoaders: StorefrontDeps['createLoaders'];
    tenantLookups: TenantLookups;
  },
): Services {
  const { db, backgroundDb, cache, keys, bus, redis, logger, limiters, tenantLookups } = deps;
  const sessions = new SessionService({
    db,
    redis: redis?.circuit,
    cache,
    prefix: config.cachePrefix,
    ttlSeconds: config.sessionTtlSeconds,
    maxPerUser: config.operations.sessionsMaxPerUser,
    // Every instance closes the WebSockets of sessions that ended (src/server/websocket.ts).
    onEnded: (ended) =>
      void bus.publish(SESSIONS_ENDED_TOPIC, ended).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not announce ended sessions: open sockets close on reconnect only');
      }),
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
    tenantCache: new TenantCache({
      db,
      cache,
      keys,
      redis: redis?.circuit,
      prefix: config.cachePrefix,
      lookups: tenantLookups,
    }),
    accounts: new AccountService({ db, sessions, audit, lockout: new SignInLockout(limiters, config.lockout) }),
    ...createStorefrontServices(config, { ...deps, redis: redis?.circuit }),
    wishlist: new WishlistService(db),
    db,
    venues: new VenueEventService({ db, cache, keys }),
    ticketing: createTicketing(config.ticketing, {
      db,
      backgroundDb,
      redis: redis?.circuit,
      bus,
      cache,
      keys,
      prefix: config.cachePrefix,
      logger,
    }),
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
    guard: OperationGuard;
    plugins: ApolloServerPlugin<GatewayContext>[];
  },
) {
  return new ApolloServer<GatewayContext>({
    schema: deps.schema,
    validationRules: [...deps.guard.extraRules],
    parseOptions: { maxTokens: config.queryLimits.maxTokens },
    allowBatchedHttpRequests: false,
    // Apollo's own persisted queries would live in each instance's memory: ours are resolved before Apollo,
    // shared through Redis (src/cache/response-cache/persisted-operations.ts).
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
      // Cache-Control from hints recorded where fields resolve, not from a hook on every field.
      ApolloServerPluginCacheControlDisabled(),
      cacheHintsPlugin<GatewayContext>(),
      ...(deps.armor.plugins as ApolloServerPlugin<GatewayContext>[]),
      subscriptionsOverWebSocketOnly(),
      privateWhenSignedIn(),
      guardPlugin(deps.guard),
      errorPlugin(),
      ...deps.plugins,
      responseCachePlugin(readStaleGraces(deps.schema, readTtlPolicy(deps.schema))), // last: see its comment
    ],
  });
}

/** The response cache's view of the viewer and the read rate limit, which its hits still pay. */
function createResponseCache(
  config: Config,
  deps: { responses: ResponseStore; services: Services; rateLimits: RateLimits; metrics: Metrics },
): ResponseCache {
  return new ResponseCache({
    store: deps.responses,
    viewerOf: (headers) => viewerFrom(deps.services.sessions, headers.authorization, 'response-cache'),
    consumeRead: (headers, remoteAddress, userId) =>
      deps.rateLimits.consume('read', clientIpOf(headers, remoteAddress, config.trustProxy), userId).then(
        () => true,
        (error: unknown) => {
          if (error instanceof RetryLaterError) return false;
          throw error;
        },
      ),
    registry: deps.metrics.registry,
  });
}

/**
 * Invalidations broadcast while this instance's subscriber connection was down never reach it, so when
 * the connection is back its in-process copies go: Redis holds what is fresh, or the writers' replays
 * (src/cache/invalidation.ts) arrive now that we listen again. Correct, just colder.
 */
function dropLocalCopiesOnResubscribe(subscriber: Redis, drop: () => void): void {
  let lost = false;
  const back = (): void => {
    if (!lost) return;
    lost = false;
    drop();
  };
  subscriber.on('close', () => void (lost = true));
  if (!isCluster(subscriber)) {
    subscriber.on('ready', back); // ioredis has sent the SUBSCRIBEs again by then
    return;
  }
  // On a cluster the bus listens on one connection per shard, subscribed again after `ready`: a shard's
  // subscriber that is replaced (its node failed over) may have missed messages too (docs/ARCHITECTURE.md
  // "Redis topologies"). The copies go once the channels are subscribed again: what is cached or asked
  // for before then would miss the messages sent meanwhile.
  subscriber.on('-subscriber', () => void (lost = true));
  subscriber.on('subscribersReady', back);
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
  // Background work (the hold sweeper, publishing seat changes) has its own small pool: it never waits
  // behind requests for a connection, and its statements are not counted as any request's SQL.
  const backgroundDb = createDatabase({ url: database.url, poolSize: 2 });
  closers.push(() => backgroundDb.$disconnect());
  let redis: RedisClients | undefined;
  let bus: EventBus;
  if (config.redisUrl) {
    const clients = await connectRedis(config.redisUrl, logger);
    redis = clients;
    closers.push(() => Promise.all([closeRedis(clients.main), closeRedis(clients.subscriber)]));
    closers.push(() => clients.circuit.dispose());
    bus = createRedisBus(redis.circuit, redis.subscriber, config.cachePrefix);
  } else if (options.worker) {
    logger.info('no REDIS_URL: in-process cache, pub/sub relayed between the workers by the primary process');
    bus = options.worker.createBus();
  } else {
    logger.info('no REDIS_URL: running as a single instance with the in-process cache and in-process pub/sub');
    bus = createInProcessBus();
  }
  closers.push(() => bus.close());

  // The cache layers and the per-request loaders over them.
  const l1 = new L1Cache({ maxBytes: config.l1MaxBytes, maxTtlSeconds: L1_MAX_TTL_SECONDS });
  const keys = createKeyBuilder(config.cachePrefix, readPrismaSchemaText(), CACHE_TYPE_MODELS);
  // Per-organization lookups, counted in memory and flushed to Redis (src/accounts/tenant-lookups.ts).
  const tenantLookups = new TenantLookups({ redis: redis?.circuit, prefix: config.cachePrefix, flushMs: 1_000 });
  tenantLookups.start();
  closers.push(() => tenantLookups.stop());
  const hooks = observeCache(metrics, redis?.circuit, tenantLookups);
  const cache = new EntityCache({ l1, redis: redis?.circuit, bus, prefix: config.cachePrefix, hooks, logger });
  // Subscribed before serving when Redis is up; without it, serve anyway and subscribe when it returns.
  closers.push(() => cache.stop());
  await Promise.race([cache.start(), new Promise((resolve) => setTimeout(resolve, REDIS_START_WAIT_MS).unref())]);
  const budgets = new ExecutionBudgets({
    maxExecutionMs: config.queryLimits.maxExecutionMs,
    // The cost counts every value an answer can hold; execution stops well before twice that.
    maxResolvedFields: config.queryLimits.maxCost * 2,
    maxResponseBytes: config.queryLimits.maxResponseBytes,
  });
  // Cache hints outermost: a field the budget skips or a permission refuses still counts, as with Apollo.
  const schema = recordCacheHints(guardSchema(buildSchema(), budgets));
  closers.push(tolerateAbandonedBudgetBranches());
  const createLoaders = createLoaderFactory(db, createLoaderRuntime({ cache, keys, hooks }), readTtlPolicy(schema));

  // Services and the per-request context. (Production refuses to start without KEY_HASH_SECRET.)
  const limiters = createLimiterFactory(
    redis?.circuit,
    config.cachePrefix,
    config.keyHashSecret ?? `cachegate:${config.cachePrefix}`,
    options.worker?.createLimiter,
  );
  const services = createServices(config, {
    db,
    backgroundDb,
    cache,
    keys,
    bus,
    redis,
    logger,
    limiters,
    createLoaders,
    tenantLookups,
  });
  services.ticketing.start(); // the hold-expiry sweeper
  closers.push(() => services.ticketing.stop());
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
  // A cold cache is slower, not wrong: a failed warming is logged and the gateway serves anyway.
  if (config.storefront.warmOnStart)
    await services.warmer
      .warm('start-up')
      .catch((error: unknown) => logger.warn({ err: error }, 'cache warming failed'));
  const rateLimits = new RateLimits(limiters, config.rateLimits);
  const responses = config.responseCache.enabled
    ? new ResponseStore({
        redis: redis?.circuit,
        prefix: config.cachePrefix,
        maxBytes: config.responseCache.l1MaxBytes,
        metrics,
        logger,
      })
    : undefined;
  const responseCache = responses && createResponseCache(config, { responses, services, rateLimits, metrics });
  if (responseCache) closers.push(responseCache.listenTo(cache));
  if (redis) {
    const dropLocalCopies = (): void => {
      l1.clear();
      responses?.dropLocal();
      services.stock.resubscribed();
    };
    dropLocalCopiesOnResubscribe(redis.subscriber, () => {
      dropLocalCopies();
      logger.info('bus reconnected: in-process cache copies dropped, invalidations may have been missed');
    });
    bus.onResubscribed?.((channels) => {
      dropLocalCopies();
      logger.warn(
        { channels: channels.length },
        'bus subscriptions found lost were made again: in-process copies dropped',
      );
    });
  }
  // Writes that bypass the gateway (plain SQL, batch jobs) reach the caches through PostgreSQL's NOTIFY.
  const changeFeed = await startChangeFeed({
    databaseUrl: database.url,
    logger,
    // A shared bus carries the leader's invalidations and pushes to every instance: one leader is enough.
    ...((redis || options.worker) && { leaderLock: config.cachePrefix }),
    onChanges: (changes) =>
      invalidateChanges(changes, {
        cache,
        keys,
        publishStock: async (productIds) => {
          for (const row of await db.inventory.findMany({ where: { productId: { in: productIds } } }))
            await bus.publish(inventoryTopic(row.productId), row);
        },
      }),
  });
  closers.push(() => changeFeed.stop());
  const createContext = async (
    requestId: string,
    headers: Record<string, string | string[] | undefined>,
    remoteAddress: string | undefined,
  ): Promise<GatewayContext> => {
    const recorder = responseCache?.recorderFor(headers);
    const stats: RequestStats = { loaderFetches: 0, ...(recorder && { touched: recorder.touched }) };
    // Most requests log nothing: the child logger is made on first use, not on every request.
    let requestLogger: Logger | undefined;
    const requestLog = (): Logger => (requestLogger ??= logger.child({ requestId }));
    const viewer = await viewerFrom(services.sessions, headers.authorization, requestId).catch((error: unknown) => {
      // Apollo answers a failed context without running our plugins: log it here, under the request id.
      requestLog().warn({ err: error }, 'could not identify the viewer');
      throw error;
    });
    // Apollo copies the context's own properties into a new object with the same prototype
    // (Object.assign), which would call getters once and keep the values: the lazy logger and the
    // watched viewer live on a per-request prototype instead.
    const lazy = Object.create(null, {
      logger: { get: requestLog },
      viewer: {
        get() {
          recorder?.noteViewerRead(); // an answer that read the viewer is not shared with other viewers
          return viewer;
        },
      },
    }) as Pick<GatewayContext, 'logger' | 'viewer'>;
    const own: Omit<GatewayContext, 'logger' | 'viewer'> = {
      requestId,
      stats,
      loaders: createLoaders(stats),
      services,
      ...(recorder && { responseRecorder: recorder }),
      userAgent: typeof headers['user-agent'] === 'string' ? headers['user-agent'] : undefined,
      clientIp: clientIpOf(headers, remoteAddress, config.trustProxy),
    };
    return Object.assign(Object.create(lazy) as GatewayContext, own);
  };

  // Servers: HTTP (Apollo, health, metrics) and graphql-ws on the same port.
  let draining = false;
  let apollo: ApolloServer<GatewayContext> | undefined;
  const armor = queryLimits(config.queryLimits);
  const production = config.env === 'production';
  const guard = new OperationGuard({
    schema,
    limiters,
    rateLimits,
    armorRules: armor.validationRules,
    policy: {
      production,
      maxCost: config.queryLimits.maxCost,
      maxQueryChars: config.queryLimits.maxChars,
      requestsPerMinutePerIp: config.requestsPerIpPerMinute,
      maxResponseBytes: config.queryLimits.maxResponseBytes,
    },
    budgets,
    checkPermissions: (document, operation, variables, context) => {
      const operationName = operation.name?.value;
      const decision = checkOperation({ schema, document, operationName, variables, viewer: context.viewer });
      if (!decision.ok) throw new PermissionRefusedError(decision);
    },
    metrics,
    logger,
  });
  const persisted = new PersistedOperations({
    redis: redis?.circuit,
    prefix: config.cachePrefix,
    ...config.persistedOperations,
    manifest: readManifest(),
    // Only a document Apollo would run is registered for every instance (and for 30 days).
    admissible: (query, operationName, variables) =>
      guard.admissible(query, operationName, variables, config.queryLimits.maxTokens),
    metrics,
  });
  const clientIp = (req: {
    headers: Record<string, string | string[] | undefined>;
    socket: { remoteAddress?: string };
  }) => clientIpOf(req.headers, req.socket.remoteAddress, config.trustProxy);
  // Extra plugins (tests counting resolvers) expect to see every request: the fast lane is then off.
  const direct = options.plugins?.length ? undefined : new DirectExecution({ schema, guard, metrics });
  // A worker's /metrics answers for the whole set: the primary adds up every worker's registry.
  const metricsSource = options.worker?.metricsOf(metrics.registry) ?? metrics.registry;
  const httpServer = createHttpServer({
    apollo: () => apollo!, // set below: Apollo's drain plugin needs the HTTP server first
    createContext,
    readiness: () => checkReadiness({ db, redis: redis?.circuit, draining }),
    registry: metricsSource,
    admit: (req) => guard.admit(clientIp(req)),
    checkQueryText: (text) => guard.checkQueryText(text),
    maxResponseBytes: config.queryLimits.maxResponseBytes,
    landingPage: !production,
    metrics:
      config.metricsPort !== undefined
        ? 'elsewhere'
        : config.metricsToken
          ? { token: config.metricsToken }
          : production
            ? 'elsewhere'
            : 'public',
    logger,
    ...(direct && { direct }),
    hitPath: new HitPath(persisted, responseCache),
    staticApp: await loadStaticApp(config.webDir),
    ...(options.worker && { workerId: options.worker.id }),
  });
  apollo = createApollo(config, {
    schema,
    httpServer,
    armor,
    guard,
    plugins: [...(options.plugins ?? []), ...(direct ? [direct.plugin()] : [])],
  });
  await apollo.start();
  closers.push(() => apollo!.stop()); // the drain plugin stops accepting and waits for in-flight requests
  // Listening before graphql-ws attaches: a taken port is then one error for main.ts to explain, not
  // also a report from the WebSocket server, which re-emits the HTTP server's errors.
  const port = await listen(httpServer, config);
  const webSocket = attachWebSocket({
    server: httpServer,
    schema,
    createContext,
    clientIp,
    guard,
    limits: {
      ...config.webSocket,
      // In production a browser may connect only from a listed origin.
      allowedOrigins: config.webSocket.allowedOrigins ?? (production ? [] : undefined),
    },
    refuseDocument: (query) => persisted.refusalOf(query),
    sessionsEnded: (listener) => bus.subscribe(SESSIONS_ENDED_TOPIC, (payload) => listener(payload as SessionsEnded)),
    maxTokens: config.queryLimits.maxTokens,
    metrics,
    logger,
  });
  closers.push(() => webSocket.close());
  let metricsPort: number | undefined;
  if (config.metricsPort !== undefined) {
    const metricsServer = createMetricsServer(metricsSource);
    metricsPort = await listen(metricsServer, { ...config, port: config.metricsPort });
    closers.push(() => new Promise((resolve) => metricsServer.close(resolve)));
  }
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

  return { url, port, metricsPort, logger, metrics, db, cache, responses, stop };
}
