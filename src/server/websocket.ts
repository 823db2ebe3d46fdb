// graphql-ws on the HTTP server's port and path. Operations over WebSocket get what HTTP ones get: the
// same parse limits and validation rules (graphql-armor), the same rate limits, a context with the
// viewer (connection_init's `authorization` stands in for the header) and the same error masking.
import type { Server } from 'node:http';
import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../graphql/context.ts';
import { classify, type RateLimits } from '../limits/rate-limits.ts';
import { maskError } from '../infra/errors.ts';
import { subscribeShared } from '../realtime/shared-execution.ts';
import type { Logger } from '../infra/logger.ts';
import type { Metrics } from '../infra/metrics.ts';
import { requestIdFrom } from './request-id.ts';

export interface WebSocketDeps {
  server: Server;
  schema: GraphQLSchema;
  createContext(
    requestId: string,
    headers: Record<string, string | string[] | undefined>,
    remoteAddress: string | undefined,
  ): Promise<GatewayContext>;
  validationRules: readonly ValidationRule[];
  maxTokens: number;
  rateLimits: RateLimits;
  metrics: Metrics;
  logger: Logger;
}

export interface WebSocketEndpoint {
  /** Closes every socket (1001 going away) and stops accepting new ones. */
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 64 * 1024;

function coded(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

export function attachWebSocket(deps: WebSocketDeps): WebSocketEndpoint {
  const formatError = (error: GraphQLError, operationId: string, requestId: string | undefined) => {
    // graphql-js reports bad variables as errors with no path and no cause; over HTTP Apollo codes them
    // BAD_USER_INPUT, here we do.
    const fromGraphQL = !error.originalError || error.originalError instanceof GraphQLError;
    if (fromGraphQL && !error.path && error.extensions?.code === undefined) {
      error = new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } });
    }
    const original = error.originalError ?? error;
    const { error: formatted, masked } = maskError(error.toJSON(), original, requestId);
    if (masked) deps.logger.error({ err: original, operationId, requestId }, 'websocket operation error');
    return formatted;
  };
  const wss = new WebSocketServer({ server: deps.server, path: '/graphql', maxPayload: MAX_MESSAGE_BYTES });
  const rules = [...specifiedRules, ...deps.validationRules];
  const cleanup = useServer<Record<string, unknown>>(
    {
      schema: deps.schema,
      // One execution per published event for viewer-independent subscriptions (src/realtime/shared-execution.ts).
      subscribe: subscribeShared,
      onSubscribe: async (ctx, id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: deps.maxTokens });
        } catch (error) {
          return [coded((error as Error).message, 'GRAPHQL_PARSE_FAILED')];
        }
        const invalid = validate(deps.schema, document, rules);
        if (invalid.length) return invalid.map((e) => coded(e.message, 'GRAPHQL_VALIDATION_FAILED'));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) return [coded('no operation with that name in the document', 'GRAPHQL_VALIDATION_FAILED')];
        const request = ctx.extra.request;
        const authorization =
          typeof ctx.connectionParams?.authorization === 'string' ? ctx.connectionParams.authorization : undefined;
        const context = await deps.createContext(
          requestIdFrom(undefined),
          { authorization, 'x-forwarded-for': request.headers['x-forwarded-for'], 'x-operation-id': id },
          request.socket.remoteAddress,
        );
        try {
          await deps.rateLimits.consume(classify(operation, document), context.clientIp, context.viewer?.userId);
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        deps.metrics.subscriptionsActive.inc();
        return {
          schema: deps.schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: context,
        };
      },
      onComplete: () => {
        deps.metrics.subscriptionsActive.dec();
      },
      // Errors inside a result (a resolver that threw) get the same masking as over HTTP.
      onNext: (_ctx, id, _payload, args, result) => {
        if (!result.errors?.length) return;
        const requestId = (args.contextValue as GatewayContext).requestId;
        return { ...result, errors: result.errors.map((error) => formatError(error, id, requestId)) };
      },
      onError: (_ctx, id, _payload, errors) => errors.map((error) => formatError(error, id, undefined)),
    },
    wss,
  );
  return {
    async close() {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
