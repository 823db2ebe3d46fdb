// What the HTTP layer calls for every GraphQL request before Apollo: persisted operations resolve a
// hash into its document (or refuse), the response cache answers from stored bytes when it can, and a
// GET answer carries an ETag, so a CDN or browser revalidates with If-None-Match and gets a 304.
import { createHash } from 'node:crypto';
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import type { PersistedOperations } from './persisted-operations.ts';
import type { GraphQLHttpRequest, ResponseCache, StoredAnswer } from './response-cache.ts';

/** Runs Apollo, on the request as rewritten by the hit path. */
export type ExecuteGraphQL = (request: { body: unknown; search: string }) => Promise<HTTPGraphQLResponse>;

export class HitPath {
  constructor(
    private readonly persisted: PersistedOperations,
    /** Absent when RESPONSE_CACHE is off. */
    private readonly responses: ResponseCache | undefined,
  ) {}

  async respond(request: GraphQLHttpRequest, execute: ExecuteGraphQL): Promise<StoredAnswer> {
    const resolving = this.persisted.resolve(request);
    const resolved = resolving instanceof Promise ? await resolving : resolving;
    if (!('method' in resolved)) return resolved.toResponse();
    // Inline, not a named closure: tsx (esbuild keepNames) names each one with Object.defineProperty.
    const response = this.responses
      ? await this.responses.respond(resolved, () => execute({ body: resolved.body, search: resolved.search }))
      : await execute({ body: resolved.body, search: resolved.search });
    return request.method === 'GET' ? withEtag(request, response) : response;
  }
}

/** A strong ETag of a complete 200 answer; 304 without a body when If-None-Match names it. */
function withEtag(request: GraphQLHttpRequest, response: StoredAnswer): StoredAnswer {
  if ((response.status ?? 200) !== 200 || response.body.kind !== 'complete') return response;
  const etag = `"${createHash('sha256').update(response.body.string).digest('base64url').slice(0, 27)}"`;
  // A stored answer's headers are shared by its hits (and `head` does not carry the ETag): a copy.
  response = { status: response.status, body: response.body, headers: new HeaderMap(response.headers) };
  response.headers.set('etag', etag);
  const ifNoneMatch = request.headers['if-none-match'];
  const matches = ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
  if (!matches) return response;
  const headers = new HeaderMap();
  for (const name of ['etag', 'cache-control', 'x-cache']) {
    const value = response.headers.get(name);
    if (value !== undefined) headers.set(name, value);
  }
  return { status: 304, headers, body: { kind: 'complete', string: '' } };
}
