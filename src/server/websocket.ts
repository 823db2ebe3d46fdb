// graphql-ws on the HTTP server's port and path. Every operation goes through the same operation guard
// as over HTTP (src/limits/operation-guard.ts): the per-IP gate before parsing, the same validation
// rules (no introspection in production), cost, rate limits, budgets, masking, metrics and log lines.
// On top, what only a long-lived socket needs: an Origin allow-list, caps on sockets per IP and per
// user and on subscriptions per socket, and a bounded send buffer per socket.
import type { IncomingMessage, Server } from 'node:http';
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionsEnded } from '../accounts/sessions.ts';
import type { GatewayContext } from '../graphql/context.ts';
import { ErrorCode, GatewayError } from '../infra/errors.ts';
import { subscribeShared } from '../realtime/shared-execution.ts';
import type { Logger } from '../infra/logger.ts';
import type { Metrics } from '../infra/metrics.ts';
import type { OperationGuard } from '../limits/operation-guard.ts';
import { requestIdFrom } from './request-id.ts';

export interface WebSocketLimits {
  /** Bytes queued for one socket before it is closed as a client that does not read. */
  maxBufferedBytes: number;
  maxSubscriptionsPerSocket: number;
  maxSocketsPerIp: number;
  maxSocketsPerUser: number;
  /** Origins a browser may connect from; undefined: any (outside production). */
  allowedOrigins: readonly string[] | undefined;
}

export interface WebSocketDeps {
  server: Server;
  schema: GraphQLSchema;
  createContext(
    requestId: string,
    headers: Record<string, string | string[] | undefined>,
    remoteAddress: string | undefined,
  ): Promise<GatewayContext>;
  clientIp(request: IncomingMessage): string;
  guard: OperationGuard;
  limits: WebSocketLimits;
  /**
   * Sessions that ended or changed role, on any instance: their sockets are closed, so a revoked user or a
   * removed staff member stops receiving at once (subscriptions were authorized when they started).
   */
  sessionsEnded?(listener: (ended: SessionsEnded) => void): Promise<() => void>;
  /** Refuses a document the deployment does not run (ALLOWED_OPERATIONS=persisted), as HTTP does. */
  refuseDocument?(query: string): GraphQLError | undefined;
  maxTokens: number;
  metrics: Metrics;
  logger: Logger;
}

export interface WebSocketEndpoint {
  /** Closes every socket (1001 going away) and stops accepting new ones. */
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 64 * 1024;
/** Close codes of ours, next to graphql-ws's 44xx: the reason says the same in words. */
export const CLOSE_SEND_BUFFER_FULL = 4413;
export const CLOSE_TOO_MANY_SOCKETS = 4430;
export const CLOSE_SESSION_ENDED = 4401;
/** How long a socket closed for not reading gets to take its close frame before it is cut. */
const TERMINATE_AFTER_MS = 1_000;

/** Whether a browser's Origin names the host this request was sent to (a page the gateway served). */
function sameHost(origin: string, req: IncomingMessage): boolean {
  try {
    return req.headers.host !== undefined && new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function coded(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

interface SocketState {
  ip: string;
  userId: string | undefined;
  sessionId: string | undefined;
  /** Operations of this socket still running: what they are, for metrics and the log line. */
  operations: Map<string, { started: number; name: string | undefined; type: string; context: GatewayContext }>;
}

/** Counts of open sockets by key (IP, user), with a cap. */
class SocketCounts {
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}
  tryAdd(key: string): boolean {
    const count = this.counts.get(key) ?? 0;
    if (count >= this.max) return false;
    this.counts.set(key, count + 1);
    return true;
  }
  remove(key: string): void {
    const count = (this.counts.get(key) ?? 1) - 1;
    if (count <= 0) this.counts.delete(key);
    else this.counts.set(key, count);
  }
}

/**
 * graphql-ws awaits each send before taking the next event, so a client that stops reading would pile
 * events up unseen in the subscription's queue. Sends are acknowledged at once instead, the backlog
 * becomes ws's bufferedAmount, and past the bound the socket is closed.
 */
function boundSendBuffer(socket: WebSocket, maxBytes: number, logger: Logger): void {
  const send = socket.send.bind(socket) as (data: unknown, cb?: (err?: Error) => void) => void;
  let overflowed = false;
  socket.send = ((data: unknown, ...rest: unknown[]) => {
    const callback = rest.find((arg): arg is (err?: Error) => void => typeof arg === 'function');
    if (!overflowed) send(data, () => undefined);
    if (!overflowed && socket.bufferedAmount > maxBytes) {
      overflowed = true;
      logger.warn({ bufferedBytes: socket.bufferedAmount }, 'websocket closed: the client is not reading');
      socket.close(CLOSE_SEND_BUFFER_FULL, 'Send buffer full: the client is not reading');
      setTimeout(() => socket.terminate(), TERMINATE_AFTER_MS).unref();
    }
    callback?.();
  }) as WebSocket['send'];
}

export function attachWebSocket(deps: WebSocketDeps): WebSocketEndpoint {
  const { guard, limits, metrics } = deps;
  const formatError = (error: GraphQLError, requestId: string | undefined) => {
    // graphql-js reports bad variables as errors with no path and no cause; over HTTP Apollo codes them
    // BAD_USER_INPUT, here we do.
    const fromGraphQL = !error.originalError || error.originalError instanceof GraphQLError;
    if (fromGraphQL && !error.path && error.extensions?.code === undefined) {
      error = new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT' } });
    }
    return guard.mask(error, requestId);
  };
  const byIp = new SocketCounts(limits.maxSocketsPerIp);
  const byUser = new SocketCounts(limits.maxSocketsPerUser);
  const states = new WeakMap<WebSocket, SocketState>();
  /** Open signed-in sockets by user, for closing those of sessions that ended. */
  const signedIn = new Map<string, Set<WebSocket>>();
  const unlistenSessions = deps.sessionsEnded?.(({ userId, sessionIds }) => {
    for (const socket of signedIn.get(userId) ?? []) {
      const sessionId = states.get(socket)?.sessionId;
      if (sessionIds === 'all' || (sessionId !== undefined && sessionIds.includes(sessionId)))
        socket.close(CLOSE_SESSION_ENDED, 'Session ended or changed: sign in again');
    }
  });
  const refused = (errors: GraphQLError[]): GraphQLError[] => {
    guard.countErrors(errors.map((e) => String(e.extensions?.code)));
    return errors;
  };

  const wss = new WebSocketServer({
    server: deps.server,
    path: '/graphql',
    maxPayload: MAX_MESSAGE_BYTES,
    // Browsers send Origin; other clients need none. A browser page from elsewhere must not ride on a
    // user's token.
    // The gateway's own page (/app/) is always allowed: an Origin naming the host the request was sent
    // to. Tokens travel in connection_init, never in cookies, so such a socket carries nothing ambient.
    verifyClient: ({ origin, req }, done) => {
      if (origin && limits.allowedOrigins && !limits.allowedOrigins.includes(origin) && !sameHost(origin, req))
        return done(false, 403, 'origin not allowed');
      const ip = deps.clientIp(req);
      guard.admit(ip).then(
        () => (byIp.tryAdd(ip) ? done(true) : done(false, 429, 'too many sockets from this address')),
        () => done(false, 429, 'too many requests from this address'),
      );
    },
  });
  const finish = (state: SocketState | undefined, id: string, errorCodes: string[]): void => {
    const operation = state?.operations.get(id);
    if (!state || !operation) return;
    state.operations.delete(id);
    if (operation.type === 'subscription') metrics.subscriptionsActive.dec();
    guard.record({ ...operation, transport: 'websocket', errorCodes });
  };

  // Registered before graphql-ws's own listener, so the socket is prepared before it is used.
  wss.on('connection', (socket, request) => {
    const state: SocketState = {
      ip: deps.clientIp(request),
      userId: undefined,
      sessionId: undefined,
      operations: new Map(),
    };
    states.set(socket, state);
    boundSendBuffer(socket, limits.maxBufferedBytes, deps.logger);
    socket.once('close', () => {
      byIp.remove(state.ip);
      if (state.userId) byUser.remove(state.userId);
      const mine = state.userId === undefined ? undefined : signedIn.get(state.userId);
      mine?.delete(socket);
      if (mine?.size === 0) signedIn.delete(state.userId!);
      // Operations end with their socket: the gauge and the metrics stay true however the socket went.
      for (const id of [...state.operations.keys()]) finish(state, id, []);
    });
  });

  const cleanup = useServer<Record<string, unknown>, { socket: WebSocket; request: IncomingMessage }>(
    {
      schema: deps.schema,
      // One execution per published event for viewer-independent subscriptions (src/realtime/shared-execution.ts).
      subscribe: subscribeShared,
      onConnect: async (ctx) => {
        const state = states.get(ctx.extra.socket);
        const authorization = ctx.connectionParams?.authorization;
        if (!state || typeof authorization !== 'string') return true;
        const context = await deps
          .createContext(requestIdFrom(undefined), { authorization }, ctx.extra.request.socket.remoteAddress)
          .catch(() => undefined);
        const userId = context?.viewer?.userId;
        if (!userId) return true;
        // Closed while the session was looked up: its close handler has run, so counting it now would leak.
        if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false;
        if (!byUser.tryAdd(userId)) {
          ctx.extra.socket.close(CLOSE_TOO_MANY_SOCKETS, 'Too many sockets for this user');
          return false;
        }
        state.userId = userId;
        state.sessionId = context?.viewer?.sessionId;
        const sockets = signedIn.get(userId) ?? new Set<WebSocket>();
        signedIn.set(userId, sockets.add(ctx.extra.socket));
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const request = ctx.extra.request;
        const state = states.get(ctx.extra.socket);
        const ip = state?.ip ?? deps.clientIp(request);
        try {
          await guard.admit(ip);
          guard.checkQueryText(payload.query);
        } catch (error) {
          if (error instanceof GraphQLError) return refused([error]);
          throw error;
        }
        if (state && state.operations.size >= limits.maxSubscriptionsPerSocket)
          return refused([
            new GatewayError(
              `at most ${limits.maxSubscriptionsPerSocket} operations per socket: complete one or open another socket`,
              ErrorCode.RATE_LIMITED,
            ),
          ]);
        const notAllowed = deps.refuseDocument?.(payload.query);
        if (notAllowed) return refused([notAllowed]);
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: deps.maxTokens });
        } catch (error) {
          return refused([coded((error as Error).message, 'GRAPHQL_PARSE_FAILED')]);
        }
        const invalid = validate(deps.schema, document, guard.rules);
        if (invalid.length) return refused(invalid.map((e) => coded(e.message, 'GRAPHQL_VALIDATION_FAILED')));
        const operation = getOperationAST(document, payload.operationName);
        if (!operation)
          return refused([coded('no operation with that name in the document', 'GRAPHQL_VALIDATION_FAILED')]);
        const authorization =
          typeof ctx.connectionParams?.authorization === 'string' ? ctx.connectionParams.authorization : undefined;
        const context = await deps.createContext(
          requestIdFrom(undefined),
          { authorization, 'x-forwarded-for': request.headers['x-forwarded-for'] },
          request.socket.remoteAddress,
        );
        try {
          await guard.authorize(document, operation, payload.variables, context);
        } catch (error) {
          if (error instanceof GraphQLError) return refused([error]);
          throw error;
        }
        if (state) {
          const name = payload.operationName ?? operation.name?.value;
          state.operations.set(id, { started: performance.now(), name, type: operation.operation, context });
        }
        if (operation.operation === 'subscription') metrics.subscriptionsActive.inc();
        return {
          schema: deps.schema,
          document,
          operationName: payload.operationName ?? null,
          variableValues: payload.variables ?? null,
          contextValue: context,
        };
      },
      onComplete: (ctx, id) => finish(states.get(ctx.extra.socket), id, []),
      // Errors inside a result (a resolver that threw) get the same masking as over HTTP.
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors?.length) return;
        const requestId = (args.contextValue as GatewayContext).requestId;
        guard.countErrors(result.errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')));
        return { ...result, errors: result.errors.map((error) => formatError(error, requestId)) };
      },
      onError: (ctx, id, _payload, errors) => {
        const formatted = errors.map((error) => formatError(error, undefined));
        finish(
          states.get(ctx.extra.socket),
          id,
          formatted.map((e) => String(e.extensions?.code)),
        );
        return formatted;
      },
    },
    wss,
  );
  return {
    async close() {
      // Not awaited: with Redis away since start-up, the subscription may never have been made.
      void unlistenSessions?.then((unlisten) => unlisten());
      await cleanup.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
