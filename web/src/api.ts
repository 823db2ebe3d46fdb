// GraphQL over HTTP with the typed documents codegen generates from client/operations. The text sent is
// the persisted-documents manifest's copy of each document, so the app also runs where the gateway
// accepts persisted documents only (ALLOWED_OPERATIONS=persisted).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import manifest from '../../src/generated/client/persisted-documents.json' with { type: 'json' };

const documents = manifest as Record<string, string>;

export interface ApiError {
  message: string;
  code: string;
  extensions: Record<string, unknown>;
}

/** A refused operation: the GraphQL errors, with their codes, for the page to show. */
export class OperationError extends Error {
  constructor(readonly errors: ApiError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
  get code(): string {
    return this.errors[0]?.code ?? 'UNKNOWN';
  }
}

/** The request body for a generated document: its manifest text, operation name and variables. */
export function requestOf<V>(
  document: TypedDocumentNode<unknown, V>,
  variables: V,
): { query: string; operationName: string; variables: V } {
  const hash = (document as { __meta__?: { hash?: string } }).__meta__?.hash;
  const query = hash === undefined ? undefined : documents[hash];
  const definition = document.definitions[0];
  if (query === undefined || definition?.kind !== 'OperationDefinition' || !definition.name)
    throw new Error('not a generated, persisted document');
  return { query, operationName: definition.name.value, variables };
}

const TOKEN_KEY = 'cachegate.token';

export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string | null): void {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  },
};

export async function execute<R, V>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const token = session.token();
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token !== null && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(requestOf(document, variables)),
  });
  const body = (await response.json()) as { data?: R | null; errors?: { message: string; extensions?: object }[] };
  if (body.errors?.length || !body.data) {
    throw new OperationError(
      (body.errors ?? [{ message: `HTTP ${response.status}` }]).map((e) => {
        const extensions = (e.extensions ?? {}) as Record<string, unknown>;
        return { message: e.message, code: String(extensions.code ?? 'UNKNOWN'), extensions };
      }),
    );
  }
  return body.data;
}
