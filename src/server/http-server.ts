// One node:http server: GraphQL over HTTP at /graphql (Apollo Server through its integration API),
// graphql-ws on the same port and path (websocket.ts), and /healthz, /readyz, /metrics.
//
// Why node:http rather than express: four routes do not need a framework, and the hot path skips a
// middleware stack. Bodies are capped and parsed here; anything malformed gets a 400 with a code,
// never a 500.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import { LRUCache } from 'lru-cache';
import type { HitPath } from '../cache/response-cache/hit-path.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { DirectExecution } from './direct-execution.ts';
import type { Logger } from '../infra/logger.ts';
import { requestIdFrom } from './request-id.ts';
import type { Readiness } from './health.ts';
import type { StaticApp } from './static-app.ts';
import type { Registry } from 'prom-client';

const MAX_BODY_BYTES = 1024 * 1024;

/** On every answer: no MIME sniffing, HTTPS only, no active content, and caches keyed by the viewer. */
const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  vary: 'Authorization',
};
const SECURITY_HEADER_ENTRIES = Object.entries(SECURITY_HEADERS);
/** The same as name, value, name, value…: a GraphQL answer's head leaves in one writeHead with them. */
const SECURITY_HEAD: readonly string[] = SECURITY_HEADER_ENTRIES.flat();
const GRAPHQL_PATH = '/graphql';
/** Read only (search, searchParams, pathname): shared by every request for exactly `/graphql`. */
const GRAPHQL_URL: Readonly<URL> = new URL(GRAPHQL_PATH, 'http://gateway.invalid');

/** Apollo's landing page (outside production) loads its scripts and styles from Apollo's CDN. */
const LANDING_PAGE_CSP =
  "default-src 'self' https://*.apollographql.com; script-src 'self' 'unsafe-inline' https://*.apollographql.com; " +
  "style-src 'self' 'unsafe-inline' https://*.apollographql.com; img-src 'self' data: https:; frame-ancestors 'none'";
const LANDING_PAGE_HEAD: readonly string[] = Object.entries({
  ...SECURITY_HEADERS,
  'content-security-policy': LANDING_PAGE_CSP,
}).flat();

/** The security headers of a GET /graphql answer allow the landing page when it is served. */
const landingPageRequest = (req: IncomingMessage, deps: HttpServerDeps): boolean =>
  req.method === 'GET' && deps.landingPage;

/** `name, value, …` through setHeader, for answers that are not written in one writeHead. */
function setHead(res: ServerResponse, head: readonly string[]): void {
  for (let i = 0; i < head.length; i += 2) res.setHeader(head[i]!, head[i + 1]!);
}

function setSecurityHeaders(res: ServerResponse, landingPage: boolean): void {
  for (const [name, value] of SECURITY_HEADER_ENTRIES) res.setHeader(name, value);
  if (landingPage) res.setHeader('content-security-policy', LANDING_PAGE_CSP);
}

export interface HttpServerDeps {
  /** A getter: the server is created before Apollo, whose drain plugin needs it. */
  apollo(): ApolloServer<GatewayContext>;
  createContext(
    requestId: string,
    headers: IncomingMessage['headers'],
    remoteAddress: string | undefined,
  ): Promise<GatewayContext>;
  readiness(): Promise<Readiness>;
  registry: MetricsSource;
  /** Per-IP gate in front of parsing (the operation guard); throws a coded error to refuse. */
  admit(req: IncomingMessage): Promise<void>;
  /** Refuses query text over the size bound before it is parsed. */
  checkQueryText(queryText: unknown): void;
  /** Answers larger than this are replaced by a RESPONSE_TOO_LARGE error. */
  maxResponseBytes: number;
  /** Apollo's landing page is served (outside production): it needs a looser Content-Security-Policy. */
  landingPage: boolean;
  /** Whether /metrics is served on this server: not when it has its own port. */
  metrics: 'public' | { token: string } | 'elsewhere';
  logger: Logger;
  /** Known plain queries executed without Apollo's pipeline (direct-execution.ts); the rest go to Apollo. */
  direct?: Pick<DirectExecution, 'respond'>;
  /** Persisted operations and the response cache, in front of Apollo (src/cache/response-cache). */
  hitPath?: Pick<HitPath, 'respond'>;
  /** The browser app at /app/ (static-app.ts), when it is built. */
  staticApp?: StaticApp;
  /** In a worker of several (src/server/cluster.ts): named on every answer, so a client can tell them apart. */
  workerId?: number;
}

/**
 * Bodies of requests the response cache answered, already parsed: a repeated hit skips JSON.parse, and
 * the response cache finds its key by the very same object (response-cache.ts). Only answered-from-cache
 * bodies are kept (queries of shareable answers, never a mutation's), and only short ones.
 */
const MEMO_MAX_BODY_CHARS = 4096;
function createBodyMemo(): LRUCache<string, object> {
  return new LRUCache<string, object>({ max: 4096, maxSize: 4096 * 1024, sizeCalculation: (_, text) => text.length });
}

/** A response the hit path answered from stored bytes and a prepared head, written as they are. */
type GraphQLAnswer = HTTPGraphQLResponse & { bytes?: Buffer; head?: readonly string[] };

/** What /metrics reads: this process's registry, or in a worker, the whole set's aggregate. */
export type MetricsSource = Pick<Registry, 'metrics' | 'contentType'>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A coded GraphQL error raised before Apollo (the gate) as an HTTP error with its status and headers. */
function asHttpError(error: unknown): unknown {
  const extensions = (error as { extensions?: Record<string, unknown> }).extensions;
  if (typeof extensions?.code !== 'string') return error;
  const http = extensions.http as { status?: number; headers?: Map<string, string> } | undefined;
  const headers = Object.fromEntries(http?.headers ?? []);
  return new HttpError(http?.status ?? 400, extensions.code, (error as Error).message, headers);
}

/**
 * The path as routing sees it: percent-decoded, dot segments and repeated slashes resolved, so
 * /graphql/../metrics and /%6Detrics are /metrics and reach the same checks.
 */
export function normalisedPath(rawUrl: string | undefined): string {
  let path = (rawUrl ?? '/').split('?')[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    return '/invalid';
  }
  const parts: string[] = [];
  for (const part of path.replaceAll('\\', '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
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
    // Listeners passed inline, not bound to a name first: tsx (esbuild keepNames) would add an
    // Object.defineProperty call for each named closure on every request.
    req.on('data', (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Stop keeping it, let the rest drain unread, and answer 413; the connection closes after the answer.
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    // A small body is one chunk: decoded as it is, without a copy.
    req.on('end', () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')));
    req.on('error', reject);
  });
}

const isJson = (contentType: string | undefined): boolean =>
  contentType?.toLowerCase().includes('application/json') === true;

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '') return undefined;
  if (!isJson(contentType)) return text;
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
  memo: LRUCache<string, object>,
  workerHead: readonly string[],
): Promise<void> {
  // The gate first: a request is charged before any of it is read or parsed, malformed or not.
  await deps.admit(req).catch((error: unknown) => {
    throw asHttpError(error);
  });
  const text = req.method === 'POST' ? await readBody(req) : undefined;
  const memoised = text !== undefined && isJson(req.headers['content-type']) ? memo.get(text) : undefined;
  const body = memoised ?? (text === undefined ? undefined : parseBody(text, req.headers['content-type']));
  const queryText =
    body && typeof body === 'object' ? (body as { query?: unknown }).query : url.searchParams.get('query');
  try {
    deps.checkQueryText(queryText);
  } catch (error) {
    throw asHttpError(error);
  }
  const request = {
    method: req.method ?? 'GET',
    headers: req.headers,
    search: url.search,
    body,
    remoteAddress: req.socket.remoteAddress,
  };
  const response: GraphQLAnswer = await (deps.hitPath
    ? deps.hitPath.respond(request, (rewritten) => execute(req, requestId, deps, rewritten))
    : execute(req, requestId, deps, { body, search: url.search }));
  const security = landingPageRequest(req, deps) ? LANDING_PAGE_HEAD : SECURITY_HEAD;
  if (response.bytes && response.head) {
    // Stored answers were within the bound when they were built, and their head is prepared.
    if (!memoised && text !== undefined && text.length <= MEMO_MAX_BODY_CHARS && typeof body === 'object')
      memo.set(text, body as object);
    res.writeHead(response.status ?? 200, [...security, ...response.head, 'x-request-id', requestId, ...workerHead]);
    res.end(response.bytes);
    return;
  }
  if (response.body.kind === 'complete') {
    const length = Buffer.byteLength(response.body.string);
    if (length > deps.maxResponseBytes) {
      throw new HttpError(
        400,
        'RESPONSE_TOO_LARGE',
        `the answer is over ${deps.maxResponseBytes} bytes: ask for smaller pages or fewer fields`,
        { 'cache-control': 'no-store' },
      );
    }
    // A known length: head and body leave in one write, not as chunked encoding's three.
    res.writeHead(response.status ?? 200, [
      ...headOf(security, response.headers),
      'x-request-id',
      requestId,
      'content-length',
      String(length),
      ...workerHead,
    ]);
    res.end(response.body.string);
    return;
  }
  setSecurityHeaders(res, security === LANDING_PAGE_HEAD);
  for (const [key, value] of response.headers)
    res.setHeader(key, key === 'vary' ? `${value}, ${SECURITY_HEADERS.vary}` : value);
  res.setHeader('x-request-id', requestId);
  setHead(res, workerHead);
  res.statusCode = response.status ?? 200;
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/** Runs the request, as the hit path may have rewritten it, through the fast lane or Apollo. */
function execute(
  req: IncomingMessage,
  requestId: string,
  deps: HttpServerDeps,
  rewritten: { body: unknown; search: string },
): Promise<HTTPGraphQLResponse> {
  const createContext = () => deps.createContext(requestId, req.headers, req.socket.remoteAddress);
  const apollo = (context = createContext): Promise<HTTPGraphQLResponse> => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    return deps.apollo().executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, ...rewritten },
      context,
    });
  };
  if (!deps.direct) return apollo();
  const method = req.method ?? 'GET';
  return deps.direct.respond({ method, headers: req.headers, body: rewritten.body }, createContext, apollo);
}

/** The security headers, then the answer's own; an answer's Vary is joined to ours, not sent twice. */
function headOf(security: readonly string[], headers: Iterable<[string, string]>): string[] {
  const head = [...security];
  for (const [key, value] of headers) {
    if (key === 'vary') head[head.indexOf('vary') + 1] = `${value}, ${SECURITY_HEADERS.vary}`;
    else head.push(key, value);
  }
  return head;
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, {
    errors: [{ message: 'not found: GraphQL is served at /graphql', extensions: { code: 'NOT_FOUND' } }],
  });
}

async function sendMetrics(res: ServerResponse, registry: MetricsSource): Promise<void> {
  const text = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType });
  res.end(text);
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** /metrics alone on its own port (METRICS_PORT), for the scraper on the internal network. */
export function createMetricsServer(registry: MetricsSource): Server {
  return createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (normalisedPath(req.url) !== '/metrics') return notFound(res);
    sendMetrics(res, registry).catch(() => res.destroy());
  });
}

/** Every route but /graphql. */
async function route(req: IncomingMessage, res: ServerResponse, path: string, deps: HttpServerDeps): Promise<void> {
  switch (path) {
    case '/healthz':
      return sendJson(res, 200, { status: 'ok' });
    case '/readyz': {
      const readiness = await deps.readiness();
      return sendJson(res, readiness.status === 'ready' ? 200 : 503, readiness);
    }
    case '/metrics':
      if (deps.metrics === 'elsewhere') return notFound(res);
      if (typeof deps.metrics === 'object' && !tokenMatches(req.headers.authorization, deps.metrics.token))
        return sendJson(res, 401, {
          errors: [{ message: 'metrics need their bearer token', extensions: { code: 'UNAUTHENTICATED' } }],
        });
      return sendMetrics(res, deps.registry);
    default:
      if (path === '/app' || path.startsWith('/app/')) {
        if (deps.staticApp) return deps.staticApp.serve(req, res, path);
        return sendJson(res, 404, {
          errors: [{ message: 'the web app is not built: npm run build:web', extensions: { code: 'NOT_FOUND' } }],
        });
      }
      return notFound(res);
  }
}

export function createHttpServer(deps: HttpServerDeps): Server {
  const memo = createBodyMemo();
  // A GraphQL answer carries it in its one writeHead: a header set before writeHead(status, array) sends
  // Node down its slow path, which removes and re-appends every header of the array on each answer.
  const workerHead: readonly string[] =
    deps.workerId === undefined ? [] : ['x-cachegate-worker', String(deps.workerId)];
  const server = createServer((req, res) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    // The common request line (a POST to /graphql) needs no parsing: one URL object serves them all.
    const plain = req.url === GRAPHQL_PATH;
    const url = plain ? GRAPHQL_URL : new URL(req.url ?? '/', 'http://gateway.invalid');
    const path = plain ? GRAPHQL_PATH : normalisedPath(req.url);
    // A GraphQL answer carries them in its one writeHead (handleGraphQL); everything else gets them here.
    const graphql = path === GRAPHQL_PATH;
    if (!graphql) setSecurityHeaders(res, false);
    if (!graphql) setHead(res, workerHead);
    const routed = graphql
      ? handleGraphQL(req, res, url, requestId, deps, memo, workerHead)
      : route(req, res, path, deps);
    routed.catch((error: unknown) => {
      if (graphql && !res.headersSent) {
        setSecurityHeaders(res, landingPageRequest(req, deps));
        setHead(res, workerHead);
      }
      if (error instanceof HttpError) {
        const close: Record<string, string> = error.status === 413 ? { connection: 'close' } : {};
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendJson(
          res,
          error.status,
          { errors: [{ message: error.message, extensions: { code: error.code, requestId } }] },
          { 'x-request-id': requestId, ...close, ...error.headers },
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
