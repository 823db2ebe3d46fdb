// Apollo Server plugins, envelop-style: each concern is one plugin and the server is their sum.
import type { ApolloServerPlugin, GraphQLRequestContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../graphql/context.ts';
import { ErrorCode, GatewayError, isDatabaseUnavailable } from '../infra/errors.ts';
import type { Logger } from '../infra/logger.ts';
import type { Metrics } from '../infra/metrics.ts';

/** How many distinct operation names get their own metrics label; later ones share `other`. */
const MAX_OPERATION_LABELS = 200;

function operationName(context: GraphQLRequestContext<GatewayContext>): string {
  const name = context.operationName ?? context.operation?.name?.value;
  return name && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name) ? name : 'anonymous';
}

/**
 * The metrics label of an operation, with bounded cardinality: clients choose operation names and every
 * new label is a new Prometheus series, so only the first MAX_OPERATION_LABELS names seen get their own.
 */
function operationLabel(context: GraphQLRequestContext<GatewayContext>, seen: Set<string>): string {
  const name = operationName(context);
  if (seen.has(name)) return name;
  if (seen.size >= MAX_OPERATION_LABELS) return 'other';
  seen.add(name);
  return name;
}

/** Request count and latency by operation, errors by code, SQL statements per request. */
export function metricsPlugin(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async didEncounterErrors(context) {
          for (const error of context.errors)
            metrics.graphqlErrors.inc({ code: String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
        },
        async willSendResponse(context) {
          const labels = {
            operation: operationLabel(context, metrics.operationLabels),
            type: context.operation?.operation ?? 'unknown',
          };
          metrics.graphqlRequests.inc(labels);
          metrics.graphqlDuration.observe(labels, (performance.now() - started) / 1000);
          metrics.loaderFetchesPerRequest.observe(context.contextValue.stats.loaderFetches);
        },
      };
    },
  };
}

/** One structured line per operation: name, type, duration, error codes. Never variables (PII). */
export function requestLogPlugin(rootLogger: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse(context) {
          if (!rootLogger.isLevelEnabled('debug')) return; // the hot path builds nothing it will not log
          const { logger, stats } = context.contextValue;
          const errors = context.errors?.map((e) => e.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          logger.debug(
            {
              operation: operationName(context),
              type: context.operation?.operation,
              ms: Math.round(performance.now() - started),
              loaderFetches: stats.loaderFetches,
              ...(errors?.length && { errors }),
            },
            'graphql operation',
          );
        },
      };
    },
  };
}

/**
 * Error masking (src/infra/errors.ts) with the request id: each error a client sees gets
 * extensions.requestId, and the original of every masked error is logged under the same id.
 */
export function errorPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors(context) {
          const { logger } = context.contextValue;
          for (const error of context.errors) {
            const original = error.originalError ?? error;
            if (isDatabaseUnavailable(original))
              logger.warn({ err: original, path: error.path }, 'database unavailable');
            else if (!(original instanceof GraphQLError) || original.extensions?.code === 'INTERNAL_SERVER_ERROR')
              logger.error({ err: original, path: error.path }, 'masked error');
          }
        },
        async willSendResponse(context) {
          const { body } = context.response;
          if (body.kind !== 'single' || !body.singleResult.errors) return;
          const requestId = context.contextValue.requestId;
          body.singleResult.errors = body.singleResult.errors.map((e) => ({
            ...e,
            extensions: { ...e.extensions, requestId },
          }));
        },
      };
    },
  };
}

/** Subscriptions are served over WebSocket (graphql-ws); over HTTP they would run as a query with nothing to resolve. */
export function subscriptionsOverWebSocketOnly(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === 'subscription') {
            throw new GatewayError(
              'subscriptions are served over WebSocket (graphql-ws) at this same path',
              ErrorCode.BAD_REQUEST,
              { http: { status: 400 } },
            );
          }
        },
      };
    },
  };
}

/**
 * A response to a signed-in viewer may hold what only that viewer may see (an organization's drafts,
 * say), so it is never marked for shared caches: Cache-Control becomes private, whatever the hints say.
 */
export function privateWhenSignedIn(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        // After execution, once the fields' hints are in: restricting earlier would make Apollo's cache
        // control plugin skip the hints altogether (and answer no-store).
        async executionDidStart({ contextValue, overallCachePolicy }) {
          if (!contextValue.viewer) return;
          return {
            async executionDidEnd() {
              overallCachePolicy.restrict({ scope: 'PRIVATE' });
            },
          };
        },
      };
    },
  };
}
