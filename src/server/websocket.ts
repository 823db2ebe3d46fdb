// graphql-ws on the HTTP server's port and path. Subscriptions get a context like HTTP requests
// (connection_init's payload stands in for the headers: it carries the session token later).
import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { GatewayContext } from '../graphql/context.ts';
import { maskError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { requestIdFrom } from './request-id.ts';

export interface WebSocketDeps {
  server: Server;
  schema: GraphQLSchema;
  createContext(requestId: string, headers: Record<string, string | string[] | undefined>, remoteAddress: string | undefined): Promise<GatewayContext>;
  metrics: Metrics;
  logger: Logger;
}

export interface WebSocketEndpoint {
  /** Closes every socket (1001 going away) and stops accepting new ones. */
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 64 * 1024;

export function attachWebSocket(deps: WebSocketDeps): WebSocketEndpoint {
  const wss = new WebSocketServer({ server: deps.server, path: '/graphql', maxPayload: MAX_MESSAGE_BYTES });
  const cleanup = useServer<Record<string, unknown>>(
    {
      schema: deps.schema,
      context: (ctx, id) => {
        // Only an Authorization value from connection_init crosses over, as if it were a header.
        const authorization = typeof ctx.connectionParams?.authorization === 'string' ? ctx.connectionParams.authorization : undefined;
        const request = ctx.extra.request;
        return deps.createContext(requestIdFrom(undefined), { authorization, 'x-forwarded-for': request.headers['x-forwarded-for'], 'x-operation-id': id }, request.socket.remoteAddress);
      },
      onSubscribe: () => {
        deps.metrics.subscriptionsActive.inc();
      },
      onComplete: () => {
        deps.metrics.subscriptionsActive.dec();
      },
      onError: (_ctx, id, _payload, errors) =>
        errors.map((error) => {
          const { error: formatted, masked } = maskError(error.toJSON(), error.originalError ?? error, undefined);
          if (masked) deps.logger.error({ err: error.originalError ?? error, operationId: id }, 'subscription error');
          return formatted;
        }),
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
