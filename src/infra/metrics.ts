// Every Prometheus metric of the gateway, in one registry created at start-up and passed to whoever
// records (no global default registry: two gateways in one test process must not share counters).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Operation names that have their own label (bounded: see apollo-plugins.ts). */
  operationLabels: Set<string>;
  graphqlRequests: Counter<'operation' | 'type'>;
  graphqlDuration: Histogram<'operation' | 'type'>;
  graphqlErrors: Counter<'code'>;
  /** Queries answered by the fast lane, without Apollo's pipeline (src/server/direct-execution.ts). */
  directExecutions: Counter;
  cacheLookups: Counter<'layer' | 'type' | 'result'>;
  loaderBatchSize: Histogram<'type'>;
  dbQueries: Counter;
  loaderFetchesPerRequest: Histogram;
  redisErrors: Counter<'operation'>;
  redisCircuitOpen: Gauge;
  subscriptionsActive: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cachegate_process_' });
  const registers = [registry];
  return {
    registry,
    operationLabels: new Set(),
    graphqlRequests: new Counter({
      name: 'cachegate_graphql_requests_total',
      help: 'GraphQL operations executed, by operation name and type',
      labelNames: ['operation', 'type'],
      registers,
    }),
    directExecutions: new Counter({
      name: 'cachegate_direct_executions_total',
      help: "Queries answered by the execution path's fast lane, without Apollo's request pipeline",
      registers,
    }),
    graphqlDuration: new Histogram({
      name: 'cachegate_graphql_request_duration_seconds',
      help: 'GraphQL operation latency, by operation name and type',
      labelNames: ['operation', 'type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    graphqlErrors: new Counter({
      name: 'cachegate_graphql_errors_total',
      help: 'GraphQL errors returned to clients, by extensions.code',
      labelNames: ['code'],
      registers,
    }),
    cacheLookups: new Counter({
      name: 'cachegate_cache_lookups_total',
      help: 'Entity cache lookups by layer (l1, redis, db), entity type and result (hit, miss)',
      labelNames: ['layer', 'type', 'result'],
      registers,
    }),
    loaderBatchSize: new Histogram({
      name: 'cachegate_loader_batch_size',
      help: 'Keys per DataLoader batch, by entity type',
      labelNames: ['type'],
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    }),
    dbQueries: new Counter({
      name: 'cachegate_db_queries_total',
      help: 'SQL statements sent to PostgreSQL',
      registers,
    }),
    loaderFetchesPerRequest: new Histogram({
      name: 'cachegate_loader_fetches_per_request',
      help: 'Loader reads of PostgreSQL (batches that missed every cache layer) for one GraphQL operation',
      buckets: [0, 1, 2, 3, 5, 8, 13, 21, 50],
      registers,
    }),
    redisErrors: new Counter({
      name: 'cachegate_redis_errors_total',
      help: 'Redis operations that failed or were short-circuited, by operation',
      labelNames: ['operation'],
      registers,
    }),
    redisCircuitOpen: new Gauge({
      name: 'cachegate_redis_circuit_open',
      help: '1 while the Redis circuit breaker is open (Redis bypassed), else 0',
      registers,
    }),
    subscriptionsActive: new Gauge({
      name: 'cachegate_subscriptions_active',
      help: 'GraphQL subscriptions currently open over WebSocket',
      registers,
    }),
  };
}
