// Apollo Server plugins, envelop-style: each concern is one plugin and the server is their sum.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from '../graphql/context.ts';
import { ErrorCode, GatewayError, isDatabaseTransient } from '../infra/errors.ts';
import type { OperationGuard } from '../limits/operation-guard.ts';

/**
 * The operation guard (src/limits/operation-guard.ts) inside Apollo: authorize once the operation is
 * resolved, errors counted as they happen, metrics and the log line when the response leaves. The per-IP
 * gate runs earlier, in the HTTP server, before the body is parsed.
 */
export function guardPlugin(guard: OperationGuard): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async didResolveOperation({ document, operation, request, contextValue }) {
          if (operation) await guard.authorize(document, operation, request.variables, contextValue);
        },
        async didEncounterErrors(context) {
          guard.countErrors(context.errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
        },
        async willSendResponse(context) {
          const { body } = context.response;
          const errors = body.kind === 'single' ? (body.singleResult.errors ?? []) : [];
          guard.record({
            name: context.operationName ?? context.operation?.name?.value,
            type: context.operation?.operation,
            transport: 'http',
            started,
            errorCodes: errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')),
            context: context.contextValue,
          });
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
            if (isDatabaseTransient(original))
              logger.warn({ err: original, path: error.path }, 'database unavailable or busy');
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

/**
 * Subscriptions are served over WebSocket (graphql-ws); over HTTP they would run as a query with nothing to
 * resolve.
 */
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
