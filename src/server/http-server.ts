// One node:http server: GraphQL over HTTP at /graphql (Apollo Server through its integration API),
// graphql-ws on the same port and path (websocket.ts), and /healthz, /readyz, /metrics.
//
// Why node:http rather than express: four routes do not need a framework, and the hot path skips a
// middleware stack. Bodies are capped and parsed here; anything malformed gets a 400 with a code,
// never a 500.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import type { HitPath } from '../cache/response-cache/hit-path.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { Logger } from '../infra/logger.ts';
import { requestIdFrom } from './request-id.ts';
import type { Readiness } from './health.ts';
import type { Registry } from 'prom-client';

const MAX_BODY_BYTES = 1024 * 1024;

export interface HttpServerDeps {
  /** A getter: the server is created before Apollo, whose drain plugin needs it. */
  apollo(): ApolloServer<GatewayContext>;
  createContext(
    requestId: string,
    headers: IncomingMessage['headers'],
    remoteAddress: string | undefined,
  ): Promise<GatewayContext>;
  readiness(): Promise<Readiness>;
  registry: Registry;
  logger: Logger;
  /** Persisted operations and the response cache, in front of Apollo (src/cache/response-cache). */
  hitPath?: Pick<HitPath, 'respond'>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is over ${MAX_BODY_BYTES} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop keeping it, let the rest drain unread, and answer 413; the connection closes after the answer.
        req.off('data', onData);
        req.resume();
        reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return undefined;
  if (!contentType?.toLowerCase().includes('application/json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'request body is not valid JSON');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function handleGraphQL(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requestId: string,
  deps: HttpServerDeps,
): Promise<void> {
  const body = req.method === 'POST' ? parseBody(await readBody(req), req.headers['content-type']) : undefined;
  const execute = (rewritten = { body, search: url.search }): Promise<HTTPGraphQLResponse> => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    return deps.apollo().executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, ...rewritten },
      context: () => deps.createContext(requestId, req.headers, req.socket.remoteAddress),
    });
  };
  const request = { method: req.method ?? 'GET', headers: req.headers, search: url.search, body };
  const response = await (deps.hitPath?.respond({ ...request, remoteAddress: req.socket.remoteAddress }, execute) ??
    execute());
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.setHeader('x-request-id', requestId);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

export function createHttpServer(deps: HttpServerDeps): Server {
  const server = createServer((req, res) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    const route = async (): Promise<void> => {
      switch (url.pathname) {
        case '/graphql':
          return handleGraphQL(req, res, url, requestId, deps);
        case '/healthz':
          return sendJson(res, 200, { status: 'ok' });
        case '/readyz': {
          const readiness = await deps.readiness();
          return sendJson(res, readiness.status === 'ready' ? 200 : 503, readiness);
        }
        case '/metrics': {
          const text = await deps.registry.metrics();
          res.writeHead(200, { 'content-type': deps.registry.contentType });
          res.end(text);
          return;
        }
        default:
          return sendJson(res, 404, {
            errors: [{ message: 'not found: GraphQL is served at /graphql', extensions: { code: 'NOT_FOUND' } }],
          });
      }
    };
    route().catch((error: unknown) => {
      if (error instanceof HttpError) {
        const close: Record<string, string> = error.status === 413 ? { connection: 'close' } : {};
        sendJson(
          res,
          error.status,
          { errors: [{ message: error.message, extensions: { code: error.code, requestId } }] },
          { 'x-request-id': requestId, ...close },
        );
        return;
      }
      deps.logger.error({ err: error, requestId, path: url.pathname }, 'unhandled error in HTTP handler');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A backing service failure, not a bug in the request: 503 with a code, never a 500 with a stack.
      sendJson(res, 503, {
        errors: [{ message: 'service unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', requestId } }],
      });
    });
  });
  // Slow-loris protection; keep-alive longer than typical load balancers' idle timeout.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  return server;
}
