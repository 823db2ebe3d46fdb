// The operation guard: what every GraphQL operation goes through, whichever transport brought it.
// HTTP (Apollo, through guardPlugins in src/server/apollo-plugins.ts) and WebSocket (src/server/websocket.ts)
// both call the same methods in the same order:
//   admit       per-IP gate, before parsing, so malformed and invalid requests are charged too
//   rules       the validation rules (graphql-armor's limits, and no introspection in production)
//   authorize   once the operation and its variables are known: one password field per request, the
//               query cost (query-cost.ts), the rate limit charged per root field, the execution budget
//   record      metrics and one log line per operation
//   mask        what a client may see of an error (src/infra/errors.ts maskError)
import {
  getOperationAST,
  type GraphQLError,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import type { RateLimiterRes } from 'rate-limiter-flexible';
import type { GatewayContext } from '../graphql/context.ts';
import { ErrorCode, GatewayError, maskError, RetryLaterError } from '../infra/errors.ts';
import type { Logger } from '../infra/logger.ts';
import type { Metrics } from '../infra/metrics.ts';
import type { ExecutionBudgets } from './execution-guard.ts';
import type { Limiter, LimiterFactory } from './limiter-factory.ts';
import { operationCost } from './query-cost.ts';
import { classify, fragmentsOf, type RateLimits } from './rate-limits.ts';

export interface GuardPolicy {
  production: boolean;
  maxCost: number;
  /** Characters of query text accepted before parsing. */
  maxQueryChars: number;
  /** Requests of any kind one IP may send per minute, counted before parsing. */
  requestsPerMinutePerIp: number;
  maxResponseBytes: number;
}

export interface GuardDeps {
  schema: GraphQLSchema;
  limiters: LimiterFactory;
  rateLimits: RateLimits;
  /** graphql-armor's validation rules (depth, aliases, directives). */
  armorRules: readonly ValidationRule[];
  policy: GuardPolicy;
  /** Started for each query and mutation; the schema's resolvers charge them (execution-guard.ts). */
  budgets: ExecutionBudgets;
  /**
   * The schema's declared permissions, checked once the rate limit is charged and before anything
   * executes; throws a coded error to refuse (the composition root wires src/accounts/permissions).
   */
  checkPermissions?: (
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Readonly<Record<string, unknown>> | null | undefined,
    context: GatewayContext,
  ) => void;
  metrics: Metrics;
  logger: Logger;
}

/** Marks a context whose request has paid its rate limit (authorize). */
const CHARGED = Symbol('charged');

/** How many distinct operation names get their own metrics label; later ones share `other`. */
const MAX_OPERATION_LABELS = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface OperationRecord {
  name: string | null | undefined;
  type: string | undefined;
  transport: 'http' | 'websocket';
  started: number;
  errorCodes: readonly string[];
  context: GatewayContext | undefined;
}

/** A client-safe operation name (clients choose them; they end up in logs and metrics labels). */
export function safeOperationName(name: string | null | undefined): string {
  return name && OPERATION_NAME.test(name) ? name : 'anonymous';
}

export class OperationGuard {
  /** Every validation rule an operation must pass, the same for both transports. */
  readonly rules: readonly ValidationRule[];
  /** The armor and introspection rules only, for Apollo (which adds graphql-js's own). */
  readonly extraRules: readonly ValidationRule[];
  private readonly gate: Limiter;
  private readonly series = new Map<
    string,
    { requests: { inc(): void }; duration: { observe(seconds: number): void } }
  >();

  constructor(private readonly deps: GuardDeps) {
    this.extraRules = [...deps.armorRules, ...(deps.policy.production ? [NoSchemaIntrospectionCustomRule] : [])];
    this.rules = [...specifiedRules, ...this.extraRules];
    this.gate = deps.limiters({
      name: 'requests-ip',
      points: deps.policy.requestsPerMinutePerIp,
      durationSeconds: 60,
      scope: 'instance',
    });
  }

  get policy(): GuardPolicy {
    return this.deps.policy;
  }

  /** Per-IP gate in front of parsing; throws RATE_LIMITED (HTTP 429) when over. */
  async admit(ip: string): Promise<void> {
    try {
      await this.gate.consume(ip);
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      throw new RetryLaterError(
        'too many requests from this address',
        (rejection as RateLimiterRes).msBeforeNext / 1000,
      );
    }
  }

  /** Query text over the bound is refused (BAD_REQUEST, HTTP 413) before it is parsed. */
  checkQueryText(queryText: unknown): void {
    if (typeof queryText === 'string' && queryText.length > this.deps.policy.maxQueryChars)
      throw new GatewayError(
        `the query text is over ${this.deps.policy.maxQueryChars} characters: send long values as variables`,
        ErrorCode.BAD_REQUEST,
        { http: { status: 413 } },
      );
  }

  /** Once the operation is known, before it executes; throws a coded error to refuse it. */
  async authorize(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Readonly<Record<string, unknown>> | null | undefined,
    context: GatewayContext,
  ): Promise<void> {
    const charge = classify(operation, document);
    if (charge.passwordFields > 1)
      throw new GatewayError('one signIn or signUp per request', ErrorCode.BAD_REQUEST, { http: { status: 400 } });
    const cost = operationCost({ schema: this.deps.schema, operation, fragments: fragmentsOf(document), variables });
    if (cost > this.deps.policy.maxCost)
      throw new GatewayError(
        `query cost limit of ${this.deps.policy.maxCost} exceeded: ` +
          `this operation can return about ${Math.round(cost)} ` +
          'values; ask for smaller pages or fewer nested lists',
        ErrorCode.QUERY_TOO_COSTLY,
        { http: { status: 400 } },
      );
    // Charged once per request: when the fast lane (src/server/direct-execution.ts) hands a request it
    // authorized to Apollo, the guard runs again on the same context (Apollo copies its own properties).
    const charged = context as { [CHARGED]?: true };
    if (!charged[CHARGED]) {
      await this.deps.rateLimits.consume(
        charge.operationClass,
        context.clientIp,
        context.viewer?.userId,
        charge.points,
      );
      charged[CHARGED] = true;
    }
    this.deps.checkPermissions?.(document, operation, variables, context);
    if (operation.operation !== 'subscription') this.deps.budgets.start(context);
  }

  /**
   * Whether a document gets past parsing, validation and the cost limit (with these variables), without
   * running it: what an automatic persisted query must show before it is registered for every instance.
   */
  admissible(
    query: string,
    operationName: string | undefined,
    variables: Readonly<Record<string, unknown>> | undefined,
    maxTokens: number,
  ): boolean {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens });
    } catch {
      return false;
    }
    if (validate(this.deps.schema, document, this.rules).length > 0) return false;
    const operation = getOperationAST(document, operationName);
    if (!operation) return false;
    const cost = operationCost({ schema: this.deps.schema, operation, fragments: fragmentsOf(document), variables });
    return cost <= this.deps.policy.maxCost;
  }

  /** Counts errors by code (as they happen, on either transport). */
  countErrors(codes: readonly string[]): void {
    for (const code of codes) this.deps.metrics.graphqlErrors.inc({ code });
  }

  /** Request metrics and one debug line per operation; never variables (PII). */
  record(outcome: OperationRecord): void {
    const { metrics, logger } = this.deps;
    const seconds = (performance.now() - outcome.started) / 1000;
    const series = this.seriesOf(this.label(outcome.name), outcome.type ?? 'unknown');
    series.requests.inc();
    series.duration.observe(seconds);
    if (outcome.context) metrics.loaderFetchesPerRequest.observe(outcome.context.stats.loaderFetches);
    if (!logger.isLevelEnabled('debug')) return; // the hot path builds nothing it will not log
    (outcome.context?.logger ?? logger).debug(
      {
        operation: safeOperationName(outcome.name),
        type: outcome.type,
        transport: outcome.transport,
        ms: Math.round(seconds * 1000),
        loaderFetches: outcome.context?.stats.loaderFetches,
        ...(outcome.errorCodes.length && { errors: outcome.errorCodes }),
      },
      'graphql operation',
    );
  }

  /** The client's view of an error; the original of a masked one is logged at error level. */
  mask(error: GraphQLError, requestId: string | undefined, logger: Logger = this.deps.logger) {
    const original = error.originalError ?? error;
    const { error: formatted, masked } = maskError(error.toJSON(), original, requestId);
    if (masked) logger.error({ err: original, path: error.path, requestId }, 'masked error');
    return formatted;
  }

  /** The labelled series of one operation label and type, looked up once (labels are bounded above). */
  private seriesOf(operation: string, type: string) {
    const key = `${operation}\u0000${type}`;
    let series = this.series.get(key);
    if (!series) {
      const { metrics } = this.deps;
      const labels = { operation, type };
      series = { requests: metrics.graphqlRequests.labels(labels), duration: metrics.graphqlDuration.labels(labels) };
      this.series.set(key, series);
    }
    return series;
  }

  private label(name: string | null | undefined): string {
    const safe = safeOperationName(name);
    const seen = this.deps.metrics.operationLabels;
    if (seen.has(safe)) return safe;
    if (seen.size >= MAX_OPERATION_LABELS) return 'other';
    seen.add(safe);
    return safe;
  }
}
