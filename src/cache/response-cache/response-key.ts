// The response cache key of a GraphQL-over-HTTP request, computed without parsing the document: the
// sha256 of the document text, the operation name, the variables in canonical form (keys sorted) and
// the Accept header (it picks the response's content type). Requests the cache cannot answer
// (batches, malformed bodies, GET requests Apollo's CSRF prevention would refuse) have no key.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface GraphQLRequestParts {
  query: string;
  operationName: string | undefined;
  variables: unknown;
}

const SIMPLE_CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data'];

/** Apollo's CSRF prevention: a GET must carry a header a browser form cannot set. */
function passesPreflightRule(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType && !SIMPLE_CONTENT_TYPES.includes(contentType)) return true;
  return Boolean(headers['x-apollo-operation-name'] || headers['apollo-require-preflight']);
}

function parseJson(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The query, operation name and variables of a request the cache may answer; undefined otherwise. */
export function requestParts(
  method: string,
  headers: IncomingHttpHeaders,
  search: string,
  body: unknown,
): GraphQLRequestParts | undefined {
  let fields: Record<string, unknown>;
  if (method === 'POST') {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    fields = body as Record<string, unknown>;
  } else if (method === 'GET') {
    if (!passesPreflightRule(headers)) return undefined;
    const params = new URLSearchParams(search);
    fields = {
      query: params.get('query') ?? undefined,
      operationName: params.get('operationName') ?? undefined,
      variables: parseJson(params.get('variables')),
    };
    if (params.has('variables') && fields.variables === null) return undefined;
  } else return undefined;
  const { query, operationName, variables } = fields;
  if (typeof query !== 'string') return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return undefined;
  return { query, operationName: operationName ?? undefined, variables: variables ?? {} };
}

/** JSON with object keys sorted, so equal variables give equal keys whatever their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function documentHash(query: string): string {
  return createHash('sha256').update(query).digest('hex');
}

/** The part of the key shared by every scope: document, operation, variables, Accept. */
export function baseKey(parts: GraphQLRequestParts, hash: string, accept: string | undefined): string {
  return createHash('sha256')
    .update(`${hash}\n${parts.operationName ?? ''}\n${canonicalJson(parts.variables)}\n${accept ?? ''}`)
    .digest('base64url');
}
