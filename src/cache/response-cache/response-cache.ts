// The response cache in front of Apollo: a repeated query whose answer may be shared is answered from
// stored bytes at the HTTP layer, before Apollo parses, validates or executes anything and before a
// context or a DataLoader is built. A hit costs the key's hash, the read rate limit, a counter and the
// L1 lookup (or one Redis MGET on another instance). See docs/ARCHITECTURE.md (response cache).
//
// Decisions:
// - The key is the document's hash, the operation name, the canonical variables, the Accept header
//   and the scope (response-key.ts, response-recorder.ts). The scope is only known once the answer has
//   been built, so a lookup tries every scope the viewer may receive, most shared first.
// - A miss runs Apollo with a recorder in the context: the loaders record what they served, the
//   plugin records the cache policy and whether anything failed, and the answer is stored when it is
//   a query without errors, not PRIVATE and with maxAge > 0 (response-store.ts decides where).
// - Identical concurrent misses wait for the first one's execution (single flight per instance) and
//   share its answer when its scope suits them; otherwise they execute as usual.
// - Over the read limit, a would-be hit goes through Apollo, which refuses it in the usual shape.
import type { IncomingHttpHeaders } from 'node:http';
import { HeaderMap, type ApolloServerPlugin, type HTTPGraphQLResponse } from '@apollo/server';
import { Counter, type Registry } from 'prom-client';
import type { EntityCache } from '../entity-cache.ts';
import { baseKey, documentHash, requestParts } from './response-key.ts';
import { ResponseRecorder, scopesOf, type ScopedViewer } from './response-recorder.ts';
import type { ResponseStore, StoredResponse } from './response-store.ts';

export interface GraphQLHttpRequest {
  method: string;
  headers: IncomingHttpHeaders;
  search: string;
  body: unknown;
  remoteAddress: string | undefined;
}

export interface ResponseCacheDeps {
  store: ResponseStore;
  /** Who is asking (a session lookup when there is a bearer token); throws when that cannot be known. */
  viewerOf(headers: IncomingHttpHeaders): Promise<(ScopedViewer & { userId: string }) | null>;
  /** Consumes one read from the rate limits; false when over them. */
  consumeRead(
    headers: IncomingHttpHeaders,
    remoteAddress: string | undefined,
    userId: string | undefined,
  ): Promise<boolean>;
  registry: Registry;
}

interface Flight {
  entry: Promise<StoredResponse | undefined>;
}

export class ResponseCache {
  private readonly recorders = new WeakMap<object, ResponseRecorder>();
  private readonly flights = new Map<string, Flight>();
  private readonly outcomes: Counter<'result'>;

  constructor(private readonly deps: ResponseCacheDeps) {
    this.outcomes = new Counter({
      name: 'cachegate_response_cache_total',
      help: 'Requests the response cache answered (hit, coalesced) or passed to Apollo (miss, bypass)',
      labelNames: ['result'],
      registers: [deps.registry],
    });
  }

  /** Purges stored answers whenever an entity key or tag is invalidated, here or on another instance. */
  listenTo(cache: EntityCache): () => void {
    return cache.onInvalidate(({ keys, tags }) => this.deps.store.purge([...keys, ...tags.map((tag) => `tag:${tag}`)]));
  }

  /** The recorder of the request whose headers these are (createContext puts it in the context). */
  recorderFor(headers: object): ResponseRecorder | undefined {
    return this.recorders.get(headers);
  }

  async respond(
    request: GraphQLHttpRequest,
    execute: () => Promise<HTTPGraphQLResponse>,
  ): Promise<HTTPGraphQLResponse> {
    const parts = requestParts(request.method, request.headers, request.search, request.body);
    if (!parts) return this.bypass(execute);
    let viewer: (ScopedViewer & { userId: string }) | null;
    try {
      viewer = await this.deps.viewerOf(request.headers);
    } catch {
      return this.bypass(execute); // Apollo's context fails the same way, with the usual error shape
    }
    let base: string;
    try {
      base = baseKey(parts, documentHash(parts.query), request.headers.accept);
    } catch {
      return this.bypass(execute); // variables nested too deep to serialise: Apollo answers with a code
    }
    const scopes = scopesOf(viewer);
    const keys = scopes.map((scope) => this.deps.store.key(base, scope));
    const local = this.deps.store.getLocal(keys);
    if (local) return this.hit(request, viewer, local.entry, 'hit', execute);
    const flight = this.flights.get(base);
    if (flight) {
      const entry = await flight.entry;
      if (entry && scopes.includes(entry.scope)) return this.hit(request, viewer, entry, 'coalesced', execute);
    }
    return this.miss(request, viewer, base, keys, flight === undefined, execute);
  }

  /** Redis, then Apollo; the leader of a flight lets identical requests arriving meanwhile wait for it. */
  private async miss(
    request: GraphQLHttpRequest,
    viewer: (ScopedViewer & { userId: string }) | null,
    base: string,
    keys: string[],
    leads: boolean,
    execute: () => Promise<HTTPGraphQLResponse>,
  ): Promise<HTTPGraphQLResponse> {
    let settle: (entry: StoredResponse | undefined) => void = () => undefined;
    if (leads) this.flights.set(base, { entry: new Promise((resolve) => (settle = resolve)) });
    let entry: StoredResponse | undefined;
    try {
      const startedAt = performance.now();
      const remote = await this.deps.store.getRemote(keys, startedAt);
      if (remote.found) {
        // Requests that joined this flight may have come after a purge that this lookup predates.
        if (remote.found.shareable) entry = remote.found.entry;
        return await this.hit(request, viewer, remote.found.entry, 'hit', execute);
      }
      this.outcomes.inc({ result: 'miss' });
      const recorder = new ResponseRecorder(viewer);
      this.recorders.set(request.headers, recorder);
      try {
        const response = await execute();
        const built = entryOf(response, recorder);
        const key = built && this.deps.store.key(base, built.scope);
        // Only an answer no write has purged since it started is stored, or handed to waiting requests.
        if (built && key && this.deps.store.putLocal(key, built, startedAt)) {
          entry = built;
          response.headers.set('x-cache', 'MISS');
          void this.deps.store.putRemote(key, built, remote.seq);
        }
        return response;
      } finally {
        this.recorders.delete(request.headers);
      }
    } finally {
      if (leads) {
        this.flights.delete(base);
        settle(entry);
      }
    }
  }

  private async hit(
    request: GraphQLHttpRequest,
    viewer: (ScopedViewer & { userId: string }) | null,
    entry: StoredResponse,
    result: 'hit' | 'coalesced',
    execute: () => Promise<HTTPGraphQLResponse>,
  ): Promise<HTTPGraphQLResponse> {
    if (!(await this.deps.consumeRead(request.headers, request.remoteAddress, viewer?.userId)))
      return this.bypass(execute);
    this.outcomes.inc({ result });
    const headers = new HeaderMap();
    headers.set('content-type', entry.contentType);
    // A signed-in viewer's answer never goes to shared caches, whatever scope it was stored under.
    headers.set('cache-control', `max-age=${entry.maxAge}, ${viewer ? 'private' : 'public'}`);
    headers.set('x-cache', 'HIT');
    return { status: 200, headers, body: { kind: 'complete', string: entry.body } };
  }

  private bypass(execute: () => Promise<HTTPGraphQLResponse>): Promise<HTTPGraphQLResponse> {
    this.outcomes.inc({ result: 'bypass' });
    return execute();
  }
}

/** The answer to store, when the recorder and the response allow it. */
function entryOf(response: HTTPGraphQLResponse, recorder: ResponseRecorder): StoredResponse | undefined {
  const scope = recorder.scope();
  if (scope === undefined || (response.status ?? 200) !== 200 || response.body.kind !== 'complete') return undefined;
  return {
    body: response.body.string,
    contentType: response.headers.get('content-type') ?? 'application/json; charset=utf-8',
    maxAge: recorder.policy!.maxAge,
    scope,
    deps: [...recorder.touched],
  };
}

interface RecordingContext {
  responseRecorder?: ResponseRecorder;
}

/**
 * Feeds the recorder from Apollo: refuses anything but a query without errors, and keeps the cache
 * policy of the hints the answer touched. Must be the last plugin: its executionDidEnd then runs
 * first (Apollo calls them in reverse), before privateWhenSignedIn restricts the policy to PRIVATE.
 */
export function responseCachePlugin<C extends RecordingContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart({ contextValue }) {
      const recorder = contextValue.responseRecorder;
      if (!recorder) return;
      return {
        async executionDidStart({ operation, overallCachePolicy }) {
          if (operation?.operation !== 'query') {
            recorder.refuse();
            return;
          }
          recorder.arm();
          return {
            async executionDidEnd(error) {
              recorder.finish(overallCachePolicy.policyIfCacheable(), error !== undefined);
            },
          };
        },
        async willSendResponse({ response }) {
          if (response.body.kind !== 'single' || response.body.singleResult.errors?.length) recorder.refuse();
        },
      };
    },
  };
}
