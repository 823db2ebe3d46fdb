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
// - Stale-while-revalidate: past its maxAge, within the grace its hints declare (stale-grace.ts), an
//   answer is still served at once (x-cache: STALE) and refreshed in the background, by one instance of
//   the cluster (the store's claim). A purge still removes it entirely: never stale after a write.
import type { IncomingHttpHeaders } from 'node:http';
import { HeaderMap, type ApolloServerPlugin, type HTTPGraphQLResponse } from '@apollo/server';
import { Counter, type Registry } from 'prom-client';
import type { EntityCache } from '../entity-cache.ts';
import { baseKey, documentHash, requestParts } from './response-key.ts';
import { ResponseRecorder, scopesOf, type ScopedViewer } from './response-recorder.ts';
import { servableUntil, type ResponseStore, type StoredResponse } from './response-store.ts';
import type { StaleGraces } from './stale-grace.ts';

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

const OUTCOMES = ['hit', 'coalesced', 'stale', 'miss', 'bypass', 'refresh', 'refresh-failed'] as const;
type Outcome = (typeof OUTCOMES)[number];

/**
 * An answer from stored bytes: the HTTP layer writes `bytes` as they are, with `head` (name, value,
 * name, value…: content-type, cache-control, x-cache, content-length) in one writeHead. `headers` holds
 * the same fields for other readers; it may be shared between hits, so it is copied before a change.
 */
export type StoredAnswer = HTTPGraphQLResponse & { bytes?: Buffer; head?: readonly string[] };

/** A fresh hit's bytes and headers, prepared once per stored answer and audience. */
interface PreparedHit {
  bytes: Buffer;
  head: readonly string[];
  headers: HeaderMap;
}

type RequestViewer = (ScopedViewer & { userId: string }) | null;

/** One request as the cache handles it: who asks, its key without the scope, and how to run Apollo. */
interface Call {
  request: GraphQLHttpRequest;
  viewer: RequestViewer;
  base: string;
  execute: () => Promise<HTTPGraphQLResponse>;
}

/** A request's key without its scope, and (once an anonymous viewer asked) its anonymous L1 keys. */
interface BaseKey {
  accept: string | undefined;
  base: string;
  /** The same strings every time: a repeated anonymous lookup builds no key and hashes no new string. */
  anonymousKeys?: string[];
}

interface Flight {
  entry: Promise<StoredResponse | undefined>;
  /** When the leader's lookup began (performance.now()): a purge after it makes the entry unfit for joiners. */
  startedAt: number;
}

export class ResponseCache {
  private readonly recorders = new WeakMap<object, ResponseRecorder>();
  private readonly flights = new Map<string, Flight>();
  /** Stale answers this process is refreshing. */
  private readonly refreshing = new Set<string>();
  /**
   * Outcomes since the last scrape, added to the counter when it is read (its collect): a hit adds one to
   * a number instead of going through prom-client's label hashing and validation on every request.
   */
  private readonly counted = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
  /**
   * Keys of request bodies seen before. The HTTP layer hands the same parsed object for a body it has
   * seen answered from here (http-server.ts), so a repeated hit hashes nothing.
   */
  private readonly baseKeys = new WeakMap<object, BaseKey>();
  /** Encoded bodies of stored answers, made once per entry. */
  private readonly encoded = new WeakMap<StoredResponse, Buffer>();
  /** Fresh hits' answers, per entry and audience: a fresh hit's headers do not change while it is stored. */
  private readonly prepared = {
    public: new WeakMap<StoredResponse, PreparedHit>(),
    private: new WeakMap<StoredResponse, PreparedHit>(),
  };

  constructor(private readonly deps: ResponseCacheDeps) {
    const counted = this.counted;
    new Counter({
      name: 'cachegate_response_cache_total',
      help:
        'Requests the response cache answered (hit, coalesced, stale) or passed to Apollo (miss, bypass), ' +
        'and background refreshes of stale answers',
      labelNames: ['result'],
      registers: [deps.registry],
      collect() {
        for (const outcome of OUTCOMES) {
          if (counted[outcome] === 0) continue;
          this.inc({ result: outcome }, counted[outcome]);
          counted[outcome] = 0;
        }
      },
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

  async respond(request: GraphQLHttpRequest, execute: () => Promise<HTTPGraphQLResponse>): Promise<StoredAnswer> {
    const known = this.baseKeyOf(request);
    if (known === undefined) return this.bypass(execute);
    const base = known.base;
    let viewer: RequestViewer = null;
    try {
      // Without an Authorization header the viewer is anonymous: no session lookup to wait for.
      if (request.headers.authorization !== undefined) viewer = await this.deps.viewerOf(request.headers);
    } catch {
      return this.bypass(execute); // Apollo's context fails the same way, with the usual error shape
    }
    const scopes = scopesOf(viewer);
    let keys = viewer === null ? known.anonymousKeys : undefined;
    if (!keys) {
      keys = scopes.map((scope) => this.deps.store.key(base, scope));
      if (viewer === null) known.anonymousKeys = keys;
    }
    const local = this.deps.store.getLocal(keys);
    const call: Call = { request, viewer, base, execute };
    if (local) return this.serve(call, local.key, local.entry, 'hit');
    const flight = this.flights.get(base);
    if (flight) {
      const entry = await flight.entry;
      // The leader may have found its entry before a write's purge that this request came after (the
      // leader still waiting on its rate limit, say): such an entry is its leader's answer only.
      if (entry && scopes.includes(entry.scope) && !this.deps.store.purgedSince(entry.deps, flight.startedAt))
        return this.serve(call, this.deps.store.key(base, entry.scope), entry, 'coalesced');
    }
    return this.miss(call, keys, flight === undefined);
  }

  /** The key without its scope, or undefined when the cache cannot answer this request. */
  private baseKeyOf(request: GraphQLHttpRequest): BaseKey | undefined {
    const accept = request.headers.accept;
    const body = request.method === 'POST' && typeof request.body === 'object' ? request.body : null;
    const known = body && this.baseKeys.get(body);
    if (known && known.accept === accept) return known;
    const parts = requestParts(request.method, request.headers, request.search, request.body);
    if (!parts) return undefined;
    try {
      const made: BaseKey = { accept, base: baseKey(parts, documentHash(parts.query), accept) };
      if (body) this.baseKeys.set(body, made);
      return made;
    } catch {
      return undefined; // variables nested too deep to serialise: Apollo answers with a code
    }
  }

  /** Redis, then Apollo; the leader of a flight lets identical requests arriving meanwhile wait for it. */
  private async miss(call: Call, keys: string[], leads: boolean): Promise<HTTPGraphQLResponse> {
    let settle: (entry: StoredResponse | undefined) => void = () => undefined;
    const startedAt = performance.now();
    if (leads) this.flights.set(call.base, { entry: new Promise((resolve) => (settle = resolve)), startedAt });
    let entry: StoredResponse | undefined;
    try {
      const remote = await this.deps.store.getRemote(keys, startedAt);
      if (remote.found) {
        // Requests that joined this flight may have come after a purge that this lookup predates.
        if (remote.found.shareable) entry = remote.found.entry;
        return await this.serve(call, remote.found.key, remote.found.entry, 'hit');
      }
      this.counted.miss += 1;
      const built = await this.executeAndStore(call, startedAt, remote.seq);
      entry = built.entry;
      return built.response;
    } finally {
      if (leads) {
        this.flights.delete(call.base);
        settle(entry);
      }
    }
  }

  /**
   * Runs Apollo with a recorder and stores the answer when it may be shared and no write has purged
   * what it read since `startedAt` (only then is it handed to waiting requests too).
   */
  private async executeAndStore(
    call: Call,
    startedAt: number,
    seq: number | undefined,
  ): Promise<{ response: HTTPGraphQLResponse; entry?: StoredResponse }> {
    const recorder = new ResponseRecorder(call.viewer);
    this.recorders.set(call.request.headers, recorder);
    try {
      const response = await call.execute();
      const built = entryOf(response, recorder);
      const key = built && this.deps.store.key(call.base, built.scope);
      if (!built || !key || !this.deps.store.putLocal(key, built, startedAt)) return { response };
      response.headers.set('x-cache', 'MISS');
      const cacheControl = response.headers.get('cache-control');
      if (built.grace > 0 && cacheControl?.startsWith('max-age='))
        response.headers.set('cache-control', `${cacheControl}, stale-while-revalidate=${built.grace}`);
      void this.deps.store.putRemote(key, built, seq);
      return { response, entry: built };
    } finally {
      this.recorders.delete(call.request.headers);
    }
  }

  /** A stored answer: fresh, or stale within its grace (served at once, refreshed in the background). */
  private async serve(
    call: Call,
    key: string,
    entry: StoredResponse,
    result: 'hit' | 'coalesced',
  ): Promise<StoredAnswer> {
    const { request, viewer } = call;
    if (!(await this.deps.consumeRead(request.headers, request.remoteAddress, viewer?.userId)))
      return this.bypass(call.execute);
    const now = Date.now();
    const stale = entry.freshUntil <= now;
    this.counted[stale ? 'stale' : result] += 1;
    // A signed-in viewer's answer never goes to shared caches, whatever scope it was stored under.
    const audience = viewer ? 'private' : 'public';
    let hit: PreparedHit | undefined;
    if (stale) {
      this.refresh(call, key);
      const grace = Math.max(0, Math.ceil((servableUntil(entry) - now) / 1000));
      hit = this.prepare(entry, `max-age=0, ${audience}, stale-while-revalidate=${grace}`, 'STALE');
    } else {
      hit = this.prepared[audience].get(entry);
      if (!hit) {
        const grace = entry.grace > 0 ? `, stale-while-revalidate=${entry.grace}` : '';
        hit = this.prepare(entry, `max-age=${entry.maxAge}, ${audience}${grace}`, 'HIT');
        this.prepared[audience].set(entry, hit);
      }
    }
    return { status: 200, body: { kind: 'complete', string: entry.body }, ...hit };
  }

  private prepare(entry: StoredResponse, cacheControl: string, result: 'HIT' | 'STALE'): PreparedHit {
    let bytes = this.encoded.get(entry);
    if (!bytes) this.encoded.set(entry, (bytes = Buffer.from(entry.body)));
    const head = ['content-type', entry.contentType, 'cache-control', cacheControl, 'x-cache', result];
    const headers = new HeaderMap();
    for (let i = 0; i < head.length; i += 2) headers.set(head[i]!, head[i + 1]!);
    return { bytes, head: [...head, 'content-length', String(bytes.length)], headers };
  }

  /** Once per stale answer in this process; once across the cluster through the store's claim. */
  private refresh(call: Call, key: string): void {
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    void this.revalidate(call, key)
      .catch(() => void (this.counted['refresh-failed'] += 1))
      .finally(() => this.refreshing.delete(key));
  }

  private async revalidate(call: Call, key: string): Promise<void> {
    const startedAt = performance.now();
    // Another instance may have refreshed it already: take its answer instead of executing again.
    const remote = await this.deps.store.getRemote([key], startedAt);
    if (remote.found && remote.found.entry.freshUntil > Date.now()) return;
    const claim = await this.deps.store.claimRefresh(key);
    if (!claim.claimed) return;
    this.counted.refresh += 1;
    const { entry } = await this.executeAndStore(call, startedAt, claim.seq);
    if (!entry) await this.deps.store.releaseRefresh(key);
  }

  private bypass(execute: () => Promise<HTTPGraphQLResponse>): Promise<HTTPGraphQLResponse> {
    this.counted.bypass += 1;
    return execute();
  }
}

/** The answer to store, when the recorder and the response allow it. */
function entryOf(response: HTTPGraphQLResponse, recorder: ResponseRecorder): StoredResponse | undefined {
  const scope = recorder.scope();
  if (scope === undefined || (response.status ?? 200) !== 200 || response.body.kind !== 'complete') return undefined;
  const maxAge = recorder.policy!.maxAge;
  return {
    body: response.body.string,
    contentType: response.headers.get('content-type') ?? 'application/json; charset=utf-8',
    maxAge,
    grace: recorder.grace,
    freshUntil: Date.now() + maxAge * 1000,
    scope,
    deps: [...recorder.touched],
  };
}

interface RecordingContext {
  responseRecorder?: ResponseRecorder;
}

/**
 * Feeds the recorder from Apollo: refuses anything but a query without errors, and keeps the cache
 * policy and the stale-while-revalidate grace of the hints the answer touched. Must be the last
 * plugin: its executionDidEnd then runs first (Apollo calls them in reverse), before
 * privateWhenSignedIn restricts the policy to PRIVATE.
 */
export function responseCachePlugin<C extends RecordingContext>(graces: StaleGraces): ApolloServerPlugin<C> {
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
            willResolveField({ info }) {
              const grace = graces.get(`${info.parentType.name}.${info.fieldName}`);
              if (grace !== undefined) recorder.noteGrace(grace);
            },
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
