// Error codes of persisted operations (Apollo's automatic persisted queries protocol and trusted
// documents). They are answered at the HTTP layer, before Apollo runs, in the GraphQL error shape.
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { type ErrorCode, GatewayError } from '../../infra/errors.ts';

export const PersistedErrorCode = {
  /** The hash is unknown: send the document with it once to register it (Apollo's protocol). */
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  /** ALLOWED_OPERATIONS=persisted and the document is not in the persisted-documents manifest. */
  PERSISTED_QUERY_REQUIRED: 'PERSISTED_QUERY_REQUIRED',
  /** A malformed persistedQuery extension, or a document whose sha256 is not the hash sent with it. */
  PERSISTED_QUERY_INVALID: 'PERSISTED_QUERY_INVALID',
} as const;
export type PersistedErrorCode = (typeof PersistedErrorCode)[keyof typeof PersistedErrorCode];

export class PersistedOperationError extends GatewayError {
  constructor(
    message: string,
    code: PersistedErrorCode,
    readonly status: number,
  ) {
    // The codes are ours, not in the shared list: GatewayError only needs them to be strings.
    super(message, code as unknown as ErrorCode);
    this.name = 'PersistedOperationError';
  }

  /** The answer: Apollo's shape, and never cached (the client registers the document next). */
  toResponse(): HTTPGraphQLResponse {
    const headers = new HeaderMap();
    headers.set('content-type', 'application/json; charset=utf-8');
    headers.set('cache-control', 'private, no-cache, must-revalidate');
    const body = JSON.stringify({ errors: [{ message: this.message, extensions: { code: this.code } }] });
    return { status: this.status, headers, body: { kind: 'complete', string: body } };
  }
}

export const persistedQueryNotFound = (): PersistedOperationError =>
  new PersistedOperationError('PersistedQueryNotFound', PersistedErrorCode.PERSISTED_QUERY_NOT_FOUND, 200);
