// Configuration from environment variables, validated once at start-up. A bad value stops the start
// with one line naming the variable: the gateway never runs half-configured.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_TRUST_PROXY, parseTrustProxy, type TrustProxy } from './server/client-ip.ts';
import { listAddress, parseHostList, parseRedisTarget } from './redis/redis-address.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535);
const positiveInt = z.coerce.number({ error: 'must be a whole number' }).int().positive();
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgresql:// URL' });
const redisUrl = z.string().superRefine((value, ctx) => {
  try {
    parseRedisTarget(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});
const hostList = z.string().superRefine((value, ctx) => {
  try {
    parseHostList(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be host:port,host:port,… (${(error as Error).message})` });
  }
});

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(4000),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: positiveInt.max(500).default(10),
  REDIS_URL: redisUrl.optional(),
  REDIS_CLUSTER_NODES: hostList.optional(),
  REDIS_SENTINELS: hostList.optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  CACHE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, 'must be 1-32 characters of a-z, 0-9, _ or -')
    .default('cg'),
  L1_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  SESSION_TTL_SECONDS: positiveInt.max(30 * 86_400).default(7_200),
  // Proxies whose X-Forwarded-For is believed: true, false, or addresses, CIDRs and proxy-addr's names.
  TRUST_PROXY: z
    .string()
    .default(DEFAULT_TRUST_PROXY)
    .transform((value, context) => {
      try {
        return parseTrustProxy(value);
      } catch {
        context.addIssue({ code: 'custom', message: 'must be true, false or a list of addresses and CIDR ranges' });
        return z.NEVER;
      }
    }),
  KEY_HASH_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  LOCKOUT_MAX_FAILURES: positiveInt.default(5),
  LOCKOUT_WINDOW_SECONDS: positiveInt.default(900),
  LOCKOUT_SECONDS: positiveInt.default(1_800),
  LOCKOUT_MAX_FAILURES_PER_IP: positiveInt.default(20),
  RATE_LIMIT_READS_PER_MINUTE: positiveInt.default(600),
  RATE_LIMIT_WRITES_PER_MINUTE: positiveInt.default(60),
  RATE_LIMIT_HOLDS_PER_MINUTE: positiveInt.default(30),
  RATE_LIMIT_SIGNINS_PER_MINUTE: positiveInt.default(10),
  RATE_LIMIT_IP_MULTIPLIER: positiveInt.default(4),
  QUERY_MAX_DEPTH: positiveInt.default(10),
  QUERY_MAX_COST: positiveInt.default(50_000),
  QUERY_MAX_EXECUTION_MS: positiveInt.default(5_000),
  QUERY_MAX_CHARS: positiveInt.default(100_000),
  RESPONSE_MAX_BYTES: positiveInt.default(8 * 1024 * 1024),
  RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE: positiveInt.default(3_000),
  WS_MAX_BUFFERED_BYTES: positiveInt.default(1024 * 1024),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: positiveInt.default(20),
  WS_MAX_SOCKETS_PER_IP: positiveInt.default(50),
  WS_MAX_SOCKETS_PER_USER: positiveInt.default(10),
  ALLOWED_ORIGINS: z.string().optional(),
  // The built browser app served at /app/ (scripts/build-web.ts).
  WEB_DIR: z.string().min(1).default('web/dist'),
  METRICS_PORT: port.optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  QUERY_MAX_ALIASES: positiveInt.default(30),
  QUERY_MAX_DIRECTIVES: positiveInt.default(20),
  QUERY_MAX_TOKENS: positiveInt.default(2_000),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_PG_PORT: port.default(54329),
  SEED_ON_EMPTY: bool.optional(),
  SEED_SCALE: z.enum(['full', 'small']).default('full'),
  // Live ticketing (src/ticketing): hold lifetime and size, expiry sweep, the seat-change log.
  TICKETING_HOLD_TTL_SECONDS: positiveInt.max(86_400).default(600),
  // Extensions never keep a hold past this since it was made (default 3x the TTL): seats cannot be kept off sale.
  TICKETING_HOLD_MAX_LIFETIME_SECONDS: positiveInt.max(7 * 86_400).optional(),
  TICKETING_MAX_SEATS_PER_USER: positiveInt.max(100).default(10),
  TICKETING_SWEEP_INTERVAL_MS: positiveInt.max(60_000).default(250),
  TICKETING_CHANGE_LOG_LENGTH: positiveInt.max(1_000_000).default(1_000),
  TICKETING_COALESCE_MS: z.coerce.number({ error: 'must be a whole number' }).int().min(0).max(1_000).default(5),
  // Storefront
  CART_TTL_SECONDS: positiveInt.max(7 * 86_400).default(1_800),
  WARM_ON_START: bool.optional(),
  // The hit path: response cache in front of Apollo.
  RESPONSE_CACHE: bool.default(true),
  RESPONSE_CACHE_L1_MAX_BYTES: positiveInt.default(32 * 1024 * 1024),
  ALLOWED_OPERATIONS: z.enum(['all', 'persisted']).default('all'),
  PERSISTED_QUERIES_L1_MAX: positiveInt.default(10_000),
  PERSISTED_QUERIES_MAX_REGISTERED: positiveInt.default(100_000),
  PERSISTED_QUERIES_MAX_DOCUMENT_CHARS: positiveInt.default(20_000),
  // Operations platform: mail, password resets, sessions per user, audit retention, live activity.
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3).default('cachegate <no-reply@cachegate.invalid>'),
  PASSWORD_RESET_URL: z.url({ error: 'must be a URL' }).default('http://127.0.0.1:4000/reset-password'),
  PASSWORD_RESET_TTL_SECONDS: positiveInt.max(86_400).default(900),
  SESSIONS_MAX_PER_USER: positiveInt.max(1_000).default(10),
  AUDIT_RETENTION_DAYS: positiveInt.max(3_650).default(365),
  AUDIT_RETENTION_INTERVAL_SECONDS: positiveInt.default(3_600),
  LOW_STOCK_THRESHOLD: z.coerce.number({ error: 'must be a whole number' }).int().min(0).max(1_000_000).default(5),
  // Gateway processes on this machine (src/server/cluster.ts): a number, or `auto` for one per core.
  WORKERS: z.union([z.literal('auto'), positiveInt.max(256)], { error: 'must be a whole number or auto' }).optional(),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Absent: the gateway starts its embedded PostgreSQL. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /**
   * Absent: single instance, in-process cache and pub/sub. A redis://, redis-cluster:// or
   * redis-sentinel:// address (src/redis/redis-address.ts), also when given as REDIS_CLUSTER_NODES or
   * REDIS_SENTINELS.
   */
  redisUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  cachePrefix: string;
  l1MaxBytes: number;
  shutdownTimeoutMs: number;
  /** Sliding session lifetime (default 2 h). */
  sessionTtlSeconds: number;
  /** Proxies whose X-Forwarded-For is believed (src/server/client-ip.ts). */
  trustProxy: TrustProxy;
  /** Keys the hashes of emails and IPs in rate-limit counters; undefined: a built-in default (set one in
   *  production). */
  keyHashSecret: string | undefined;
  lockout: { maxFailures: number; windowSeconds: number; lockSeconds: number; maxFailuresPerIp: number };
  rateLimits: { perMinute: { read: number; write: number; hold: number; signIn: number }; ipMultiplier: number };
  queryLimits: {
    maxDepth: number;
    maxCost: number;
    maxAliases: number;
    maxDirectives: number;
    maxTokens: number;
    maxExecutionMs: number;
    maxChars: number;
    maxResponseBytes: number;
  };
  /** Requests of any kind per IP per minute, counted before parsing (HTTP and WebSocket). */
  requestsPerIpPerMinute: number;
  webSocket: {
    maxBufferedBytes: number;
    maxSubscriptionsPerSocket: number;
    maxSocketsPerIp: number;
    maxSocketsPerUser: number;
    /** Browser origins allowed to open a socket; undefined: any, outside production. */
    allowedOrigins: string[] | undefined;
  };
  /** The built browser app served at /app/ (absent: /app/ answers 404). */
  webDir: string;
  /** /metrics on its own port (then not on the main one). */
  metricsPort: number | undefined;
  /** /metrics on the main port behind `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  embeddedPostgres: { dir: string; port: number };
  /** Gateway processes sharing the port (1: no cluster). Default: 1 in development, one per core in production. */
  workers: number;
  /** Load the seed into an empty database at start; on by default only for the embedded database. */
  seedOnEmpty: boolean;
  seedScale: 'full' | 'small';
  /** Whole answers stored in front of Apollo; off for benchmarks of the execution path and for debugging. */
  responseCache: { enabled: boolean; l1MaxBytes: number };
  /** all: ad-hoc documents too; persisted: only those of the persisted-documents manifest. */
  /** Registrations (APQ) are vetted, at most maxDocumentChars long, and at most maxRegistered in Redis. */
  persistedOperations: { allowed: 'all' | 'persisted'; l1Max: number; maxRegistered: number; maxDocumentChars: number };
  /** Storefront: the sliding lifetime of a cart's Redis copy, and whether to warm the cache at start. */
  storefront: { cartTtlSeconds: number; warmOnStart: boolean };
  ticketing: TicketingConfig;
  operations: OperationsConfig;
}

/** The operations platform's settings (mail, password resets, session cap, audit retention, low stock). */
export interface OperationsConfig {
  /** Absent: reset mails are not sent (a warning is logged once per request, without the address). */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** The link in a reset mail: the token is appended as `?token=…`. */
  passwordResetUrl: string;
  passwordResetTtlSeconds: number;
  /** Live sessions per user; signing in beyond it ends the oldest. */
  sessionsMaxPerUser: number;
  auditRetentionDays: number;
  auditRetentionIntervalSeconds: number;
  /** A stock change leaving a product with this many or fewer available raises a LOW_STOCK activity. */
  lowStockThreshold: number;
}

export interface TicketingConfig {
  /** How long a hold lasts; holding again extends it, up to holdMaxLifetimeSeconds since it was made. */
  holdTtlSeconds: number;
  /** No extension keeps a hold past createdAt + this. */
  holdMaxLifetimeSeconds: number;
  /** Seats one user may hold and book per event. */
  maxSeatsPerUser: number;
  /** How often every instance sweeps expired holds (expiry lands within this of its time). */
  sweepIntervalMs: number;
  /** Seat changes kept per event for replay to reconnecting subscribers (a Redis Stream's MAXLEN). */
  changeLogLength: number;
  /** Seat changes of one event within this window go out as one message. */
  coalesceMs: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

/** At most one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS; the sentinels need the primary's name. */
function redisAddress(e: z.infer<typeof envSchema>): string | undefined {
  const given = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((name) => e[name]);
  if (given.length > 1) throw new ConfigError(given[1]!, `cannot be set together with ${given[0]}`);
  if (e.REDIS_CLUSTER_NODES) return listAddress('cluster', parseHostList(e.REDIS_CLUSTER_NODES));
  if (e.REDIS_SENTINELS) {
    if (!e.REDIS_SENTINEL_NAME) throw new ConfigError('REDIS_SENTINEL_NAME', 'must be set with REDIS_SENTINELS');
    return listAddress('sentinel', parseHostList(e.REDIS_SENTINELS), e.REDIS_SENTINEL_NAME);
  }
  return e.REDIS_URL;
}

/** Parses the environment; throws ConfigError naming the first bad variable. Empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const shown = present[variable] === undefined ? '' : ` (got ${JSON.stringify(redactUrl(present[variable]!))})`;
    throw new ConfigError(variable, `${issue.message}${shown}`);
  }
  const e = parsed.data;
  // Without it the HMAC key of the emails and IPs in Redis keys is in this source code, and they can
  // be reversed by hashing a list of candidates.
  if (e.NODE_ENV === 'production' && !e.KEY_HASH_SECRET)
    throw new ConfigError('KEY_HASH_SECRET', 'must be set when NODE_ENV=production (16+ random characters)');
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: redisAddress(e),
    logLevel: e.LOG_LEVEL,
    cachePrefix: e.CACHE_PREFIX,
    l1MaxBytes: e.L1_MAX_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    trustProxy: e.TRUST_PROXY,
    keyHashSecret: e.KEY_HASH_SECRET,
    lockout: {
      maxFailures: e.LOCKOUT_MAX_FAILURES,
      windowSeconds: e.LOCKOUT_WINDOW_SECONDS,
      lockSeconds: e.LOCKOUT_SECONDS,
      maxFailuresPerIp: e.LOCKOUT_MAX_FAILURES_PER_IP,
    },
    rateLimits: {
      perMinute: {
        read: e.RATE_LIMIT_READS_PER_MINUTE,
        write: e.RATE_LIMIT_WRITES_PER_MINUTE,
        hold: e.RATE_LIMIT_HOLDS_PER_MINUTE,
        signIn: e.RATE_LIMIT_SIGNINS_PER_MINUTE,
      },
      ipMultiplier: e.RATE_LIMIT_IP_MULTIPLIER,
    },
    queryLimits: {
      maxDepth: e.QUERY_MAX_DEPTH,
      maxCost: e.QUERY_MAX_COST,
      maxAliases: e.QUERY_MAX_ALIASES,
      maxDirectives: e.QUERY_MAX_DIRECTIVES,
      maxTokens: e.QUERY_MAX_TOKENS,
      maxExecutionMs: e.QUERY_MAX_EXECUTION_MS,
      maxChars: e.QUERY_MAX_CHARS,
      maxResponseBytes: e.RESPONSE_MAX_BYTES,
    },
    requestsPerIpPerMinute: e.RATE_LIMIT_REQUESTS_PER_IP_PER_MINUTE,
    webSocket: {
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
      maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxSocketsPerIp: e.WS_MAX_SOCKETS_PER_IP,
      maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
      allowedOrigins: e.ALLOWED_ORIGINS?.split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    },
    webDir: e.WEB_DIR,
    metricsPort: e.METRICS_PORT,
    workers:
      e.WORKERS === 'auto' || (e.WORKERS === undefined && e.NODE_ENV === 'production')
        ? availableParallelism()
        : (e.WORKERS ?? 1),
    metricsToken: e.METRICS_TOKEN,
    embeddedPostgres: { dir: e.EMBEDDED_PG_DIR, port: e.EMBEDDED_PG_PORT },
    seedOnEmpty: e.SEED_ON_EMPTY ?? e.DATABASE_URL === undefined,
    seedScale: e.SEED_SCALE,
    ticketing: {
      holdTtlSeconds: e.TICKETING_HOLD_TTL_SECONDS,
      holdMaxLifetimeSeconds: e.TICKETING_HOLD_MAX_LIFETIME_SECONDS ?? 3 * e.TICKETING_HOLD_TTL_SECONDS,
      maxSeatsPerUser: e.TICKETING_MAX_SEATS_PER_USER,
      sweepIntervalMs: e.TICKETING_SWEEP_INTERVAL_MS,
      changeLogLength: e.TICKETING_CHANGE_LOG_LENGTH,
      coalesceMs: e.TICKETING_COALESCE_MS,
    },
    storefront: {
      cartTtlSeconds: e.CART_TTL_SECONDS,
      warmOnStart: e.WARM_ON_START ?? e.NODE_ENV === 'production',
    },
    responseCache: { enabled: e.RESPONSE_CACHE, l1MaxBytes: e.RESPONSE_CACHE_L1_MAX_BYTES },
    persistedOperations: {
      allowed: e.ALLOWED_OPERATIONS,
      l1Max: e.PERSISTED_QUERIES_L1_MAX,
      maxRegistered: e.PERSISTED_QUERIES_MAX_REGISTERED,
      maxDocumentChars: e.PERSISTED_QUERIES_MAX_DOCUMENT_CHARS,
    },
    operations: {
      smtpUrl: e.SMTP_URL,
      mailFrom: e.MAIL_FROM,
      passwordResetUrl: e.PASSWORD_RESET_URL,
      passwordResetTtlSeconds: e.PASSWORD_RESET_TTL_SECONDS,
      sessionsMaxPerUser: e.SESSIONS_MAX_PER_USER,
      auditRetentionDays: e.AUDIT_RETENTION_DAYS,
      auditRetentionIntervalSeconds: e.AUDIT_RETENTION_INTERVAL_SECONDS,
      lowStockThreshold: e.LOW_STOCK_THRESHOLD,
    },
  };
}

/** Never echo a password from a URL into a log or an error. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    // Not a WHATWG URL (a redis-cluster:// host list): hide what sits between "user:" and "@".
    return value.replace(/^([a-z-]+s?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
  }
}
