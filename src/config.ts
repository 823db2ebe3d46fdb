// Configuration from environment variables, validated once at start-up. A bad value stops the start
// with one line naming the variable: the gateway never runs half-configured.
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535);
const positiveInt = z.coerce.number({ error: 'must be a whole number' }).int().positive();
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const postgresUrl = z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgresql:// URL' });
const redisUrl = z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(4000),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: positiveInt.max(500).default(10),
  REDIS_URL: redisUrl.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  CACHE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, 'must be 1-32 characters of a-z, 0-9, _ or -')
    .default('cg'),
  L1_MAX_BYTES: positiveInt.default(64 * 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  SESSION_TTL_SECONDS: positiveInt.max(30 * 86_400).default(7_200),
  TRUST_PROXY: bool.default(false),
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
  QUERY_MAX_COST: positiveInt.default(5_000),
  QUERY_MAX_ALIASES: positiveInt.default(30),
  QUERY_MAX_DIRECTIVES: positiveInt.default(20),
  QUERY_MAX_TOKENS: positiveInt.default(2_000),
  EMBEDDED_PG_DIR: z.string().min(1).default('.data/postgres'),
  EMBEDDED_PG_PORT: port.default(54329),
  SEED_ON_EMPTY: bool.optional(),
  SEED_SCALE: z.enum(['full', 'small']).default('full'),
  // Operations platform: mail, password resets, sessions per user, audit retention.
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3).default('cachegate <no-reply@cachegate.invalid>'),
  PASSWORD_RESET_URL: z.url({ error: 'must be a URL' }).default('http://127.0.0.1:4000/reset-password'),
  PASSWORD_RESET_TTL_SECONDS: positiveInt.max(86_400).default(900),
  SESSIONS_MAX_PER_USER: positiveInt.max(1_000).default(10),
  AUDIT_RETENTION_DAYS: positiveInt.max(3_650).default(365),
  AUDIT_RETENTION_INTERVAL_SECONDS: positiveInt.default(3_600),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Absent: the gateway starts its embedded PostgreSQL. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Absent: single instance, in-process cache and pub/sub. */
  redisUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  cachePrefix: string;
  l1MaxBytes: number;
  shutdownTimeoutMs: number;
  /** Sliding session lifetime (default 2 h). */
  sessionTtlSeconds: number;
  /** Believe X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy: boolean;
  /** Keys the hashes of emails and IPs in rate-limit counters; undefined: a built-in default (set one in
   *  production). */
  keyHashSecret: string | undefined;
  lockout: { maxFailures: number; windowSeconds: number; lockSeconds: number; maxFailuresPerIp: number };
  rateLimits: { perMinute: { read: number; write: number; hold: number; signIn: number }; ipMultiplier: number };
  queryLimits: { maxDepth: number; maxCost: number; maxAliases: number; maxDirectives: number; maxTokens: number };
  embeddedPostgres: { dir: string; port: number };
  /** Load the seed into an empty database at start; on by default only for the embedded database. */
  seedOnEmpty: boolean;
  seedScale: 'full' | 'small';
  operations: OperationsConfig;
}

/** The operations platform's settings (mail, password resets, session cap, audit retention). */
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
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    redisUrl: e.REDIS_URL,
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
    },
    embeddedPostgres: { dir: e.EMBEDDED_PG_DIR, port: e.EMBEDDED_PG_PORT },
    seedOnEmpty: e.SEED_ON_EMPTY ?? e.DATABASE_URL === undefined,
    seedScale: e.SEED_SCALE,
    operations: {
      smtpUrl: e.SMTP_URL,
      mailFrom: e.MAIL_FROM,
      passwordResetUrl: e.PASSWORD_RESET_URL,
      passwordResetTtlSeconds: e.PASSWORD_RESET_TTL_SECONDS,
      sessionsMaxPerUser: e.SESSIONS_MAX_PER_USER,
      auditRetentionDays: e.AUDIT_RETENTION_DAYS,
      auditRetentionIntervalSeconds: e.AUDIT_RETENTION_INTERVAL_SECONDS,
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
    return value;
  }
}
