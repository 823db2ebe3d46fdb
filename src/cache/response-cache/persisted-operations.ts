// Persisted operations: Apollo's automatic persisted queries protocol (extensions.persistedQuery with
// version 1 and sha256Hash; an unknown hash answers PERSISTED_QUERY_NOT_FOUND, and the client sends the
// document with its hash once to register it), plus the trusted documents of codegen's
// persisted-documents manifest. Registered documents live in Redis, so every instance knows a hash
// registered on any of them, behind a bounded L1. With ALLOWED_OPERATIONS=persisted only documents of
// the manifest are executed; anything else is refused with PERSISTED_QUERY_REQUIRED.
//
// A registration is kept only for a document that parses, validates and passes the cost limit, no longer
// than PERSISTED_QUERIES_MAX_DOCUMENT_CHARS; Redis keeps at most PERSISTED_QUERIES_MAX_REGISTERED of
// them (oldest registration dropped first).
//
// The request is rewritten into an ordinary one (the document in `query`, the extension removed) for
// the response cache and for Apollo, whose own (per-instance, uncoded) persisted queries stay off.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LRUCache } from 'lru-cache';
import type { Metrics } from '../../infra/metrics.ts';
import type { RedisCircuit } from '../../redis/circuit-breaker.ts';
import { unlinkAll } from '../../redis/slots.ts';
import { PersistedErrorCode, PersistedOperationError, persistedQueryNotFound } from './persisted-errors.ts';
import type { GraphQLHttpRequest } from './response-cache.ts';

export type AllowedOperations = 'all' | 'persisted';

/** Registered documents are kept this long after their last registration. */
const REGISTRATION_TTL_SECONDS = 30 * 86_400;
const SHA256_HEX = /^[a-f0-9]{64}$/;

export interface PersistedOperationsDeps {
  redis: RedisCircuit | undefined;
  prefix: string;
  allowed: AllowedOperations;
  /** sha256 (hex) -> document: codegen's persisted-documents manifest. */
  manifest: ReadonlyMap<string, string>;
  l1Max: number;
  /** Registered documents kept in Redis at most; the oldest registrations go first. */
  maxRegistered: number;
  /** A longer document is executed but never registered. */
  maxDocumentChars: number;
  /** Whether the document parses, validates and passes the cost limit (OperationGuard.admissible). */
  admissible(
    query: string,
    operationName: string | undefined,
    variables: Readonly<Record<string, unknown>> | undefined,
  ): boolean;
  metrics: Metrics;
}

/** codegen's client preset writes "sha256:<hex>" keys; we keep the hex. */
export function readManifest(url = new URL('../../generated/client/persisted-documents.json', import.meta.url)) {
  const raw = JSON.parse(readFileSync(url, 'utf8')) as Record<string, string>;
  return new Map(Object.entries(raw).map(([key, document]) => [key.replace(/^sha256:/, ''), document]));
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

interface Fields {
  query: unknown;
  operationName: unknown;
  variables: unknown;
  extensions: Record<string, unknown> | undefined;
}

// KEYS[1]: the registrations by time (one key, so one slot on a cluster). ARGV: now (ms), ttl (s), the most
// to keep, the hash. Returns the hashes dropped over the bound, oldest first; their documents are unlinked by
// the caller, each in its own slot. A document whose unlink is lost still expires with its TTL.
const INDEX_LUA = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]) * 1000)
redis.call('EXPIRE', KEYS[1], ARGV[2])
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[3])
if over <= 0 then return {} end
local dropped = redis.call('ZPOPMIN', KEYS[1], over)
local hashes = {}
for i = 1, #dropped, 2 do hashes[#hashes + 1] = dropped[i] end
return hashes`;

export class PersistedOperations {
  private readonly l1: LRUCache<string, string>;
  /** POST bodies that named a registered hash, and the ordinary body each was rewritten into. */
  private readonly rewritten = new WeakMap<object, object>();

  constructor(private readonly deps: PersistedOperationsDeps) {
    this.l1 = new LRUCache({ max: deps.l1Max });
  }

  /** The request with its document in `query`, or the error to answer it with. */
  resolve(
    request: GraphQLHttpRequest,
  ): GraphQLHttpRequest | PersistedOperationError | Promise<GraphQLHttpRequest | PersistedOperationError> {
    const known = request.method === 'POST' && isObject(request.body) ? this.rewritten.get(request.body) : undefined;
    if (known) return { ...request, body: known };
    const fields = fieldsOf(request);
    if (!fields) return request;
    const extension = fields.extensions?.persistedQuery;
    // An ad-hoc document is answered at once (no Redis): the hit path does not wait a turn for it.
    if (extension === undefined) return this.checkAdHoc(request, fields.query);
    return this.resolvePersisted(request, fields, extension);
  }

  private async resolvePersisted(
    request: GraphQLHttpRequest,
    fields: Fields,
    extension: unknown,
  ): Promise<GraphQLHttpRequest | PersistedOperationError> {
    const hash = (extension as { sha256Hash?: unknown } | null)?.sha256Hash;
    if (
      (extension as { version?: unknown } | null)?.version !== 1 ||
      typeof hash !== 'string' ||
      !SHA256_HEX.test(hash)
    )
      return invalid('persistedQuery needs version 1 and a sha256Hash of 64 hex digits');
    if (typeof fields.query === 'string') {
      const withQuery = fields as Fields & { query: string };
      if (sha256(fields.query) !== hash) return invalid('provided sha does not match query');
      if (!this.deps.manifest.has(hash)) {
        if (this.deps.allowed === 'persisted') return required();
        // Anything Apollo would refuse is answered as usual but not kept: no junk stored for 30 days.
        if (this.registrable(withQuery)) await this.register(hash, fields.query);
      }
      return rewrite(request, fields.query);
    }
    const document = await this.lookup(hash);
    if (document === undefined) return persistedQueryNotFound();
    const resolved = rewrite(request, document);
    // A hash names one document for good: the same body object (the HTTP layer hands a repeated hit's
    // parsed body again) is rewritten into the same object, whose response-cache key is then known.
    if (request.method === 'POST' && isObject(request.body) && isObject(resolved.body))
      this.rewritten.set(request.body, resolved.body);
    return resolved;
  }

  /**
   * For transports that carry the document itself (WebSocket): the refusal when only the manifest's
   * documents may run and this is not one of them.
   */
  refusalOf(query: string): PersistedOperationError | undefined {
    if (this.deps.allowed === 'all' || this.deps.manifest.has(sha256(query))) return undefined;
    return required();
  }

  private registrable(fields: Fields & { query: string }): boolean {
    const { query, operationName, variables } = fields;
    if (query.length > this.deps.maxDocumentChars) return false;
    if (operationName != null && typeof operationName !== 'string') return false;
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return false;
    return this.deps.admissible(
      query,
      operationName ?? undefined,
      (variables ?? undefined) as Readonly<Record<string, unknown>> | undefined,
    );
  }

  private checkAdHoc(request: GraphQLHttpRequest, query: unknown): GraphQLHttpRequest | PersistedOperationError {
    if (this.deps.allowed === 'all' || typeof query !== 'string') return request;
    return this.deps.manifest.has(sha256(query)) ? request : required();
  }

  private async lookup(hash: string): Promise<string | undefined> {
    const trusted = this.deps.manifest.get(hash);
    if (trusted !== undefined || this.deps.allowed === 'persisted') return trusted;
    const local = this.l1.get(hash);
    if (local !== undefined) return local;
    const redis = this.deps.redis;
    if (!redis || redis.state === 'open') return undefined;
    try {
      const document = await redis.run((r) => r.get(this.key(hash)));
      if (document === null) return undefined;
      this.l1.set(hash, document);
      return document;
    } catch {
      this.deps.metrics.redisErrors.inc({ operation: 'persisted-get' });
      return undefined;
    }
  }

  private async register(hash: string, document: string): Promise<void> {
    this.l1.set(hash, document);
    const redis = this.deps.redis;
    if (!redis || redis.state === 'open') return;
    const index = `${this.deps.prefix}:pq@registered`;
    await redis
      .run(async (r) => {
        await r.set(this.key(hash), document, 'EX', REGISTRATION_TTL_SECONDS);
        const args = [Date.now(), REGISTRATION_TTL_SECONDS, this.deps.maxRegistered, hash];
        const dropped = (await r.eval(INDEX_LUA, 1, index, ...args)) as string[];
        if (dropped.length)
          await unlinkAll(
            r,
            dropped.map((old) => this.key(old)),
          );
      })
      .catch(() => this.deps.metrics.redisErrors.inc({ operation: 'persisted-set' }));
  }

  private key(hash: string): string {
    return `${this.deps.prefix}:pq:${hash}`;
  }
}

const invalid = (message: string): PersistedOperationError =>
  new PersistedOperationError(message, PersistedErrorCode.PERSISTED_QUERY_INVALID, 400);

const required = (): PersistedOperationError =>
  new PersistedOperationError(
    'only persisted operations are accepted here: send the sha256Hash of a document from the manifest',
    PersistedErrorCode.PERSISTED_QUERY_REQUIRED,
    400,
  );

function parseExtensions(value: unknown): Record<string, unknown> | undefined {
  const parsed = typeof value === 'string' ? safeJson(value) : value;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The query and extensions of a single POST or GET request; undefined for anything else. */
const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

function fieldsOf(request: GraphQLHttpRequest): Fields | undefined {
  if (request.method === 'POST') {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const { query, operationName, variables, extensions } = body as Record<string, unknown>;
    return { query, operationName, variables, extensions: parseExtensions(extensions) };
  }
  if (request.method !== 'GET') return undefined;
  const params = new URLSearchParams(request.search);
  const variables = params.get('variables');
  return {
    query: params.get('query') ?? undefined,
    operationName: params.get('operationName') ?? undefined,
    variables: variables === null ? undefined : safeJson(variables),
    extensions: parseExtensions(params.get('extensions')),
  };
}

/** The same request with the document in `query` and without the persistedQuery extension. */
function rewrite(request: GraphQLHttpRequest, document: string): GraphQLHttpRequest {
  if (request.method === 'POST') {
    const { extensions, ...rest } = request.body as Record<string, unknown>;
    const { persistedQuery: _, ...others } = parseExtensions(extensions) ?? {};
    const body = { ...rest, query: document, ...(Object.keys(others).length && { extensions: others }) };
    return { ...request, body };
  }
  const params = new URLSearchParams(request.search);
  const { persistedQuery: _, ...others } = parseExtensions(params.get('extensions')) ?? {};
  params.set('query', document);
  if (Object.keys(others).length) params.set('extensions', JSON.stringify(others));
  else params.delete('extensions');
  return { ...request, search: `?${params.toString()}` };
}
