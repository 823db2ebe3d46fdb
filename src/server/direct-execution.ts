// The execution path's fast lane: a plain query whose document Apollo has already parsed and validated
// is executed here, without Apollo's request pipeline (its hooks, content negotiation, query hashing and
// result formatting cost more than a warm query's own work). It keeps every check of the operation
// guard, in the same order (authorize before execution, record after), and answers exactly what Apollo
// would. Anything else, and any answer with an error, is left to Apollo, which then produces the answer
// and its error formatting as before (docs/ARCHITECTURE.md, "The execution path").
import type { IncomingHttpHeaders } from 'node:http';
import { HeaderMap, type ApolloServerPlugin, type HTTPGraphQLResponse } from '@apollo/server';
import {
  execute,
  getOperationAST,
  getVariableValues,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { cacheControlHeader, collectCacheHints, newCachePolicy } from '../graphql/cache-hints.ts';
import type { GatewayContext } from '../graphql/context.ts';
import type { Metrics } from '../infra/metrics.ts';
import type { OperationGuard } from '../limits/operation-guard.ts';

/** Query texts remembered with their validated document: about 8 MiB of text. */
const KNOWN_TEXT_CHARS = 8 * 1024 * 1024;
/** The content types for which Apollo answers `application/json; charset=utf-8` (no negotiation needed). */
const PLAIN_ACCEPT = new Set(['*/*', 'application/json', 'application/json, */*']);
const JSON_BODY = /^application\/json\s*(;|$)/i;
const REQUEST_KEYS = new Set(['query', 'variables', 'operationName']);

export interface DirectRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

interface Known {
  query: string;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

type Apollo = (context?: () => Promise<GatewayContext>) => Promise<HTTPGraphQLResponse>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export class DirectExecution {
  /** Query text to the document Apollo validated for it (the same object Apollo keeps in its store). */
  private readonly documents = new LRUCache<string, DocumentNode>({
    maxSize: KNOWN_TEXT_CHARS,
    sizeCalculation: (_document, text) => Math.max(1, text.length),
  });

  constructor(
    private readonly deps: {
      schema: GraphQLSchema;
      guard: Pick<OperationGuard, 'authorize' | 'record'>;
      metrics: Pick<Metrics, 'directExecutions'>;
    },
  ) {}

  /**
   * Remembers a query's document once Apollo has parsed and validated it and answered it without an
   * error; a document whose answer had errors is forgotten again (respond), so a query that keeps failing
   * runs on Apollo alone rather than twice.
   */
  plugin(): ApolloServerPlugin<GatewayContext> {
    const documents = this.documents;
    return {
      async requestDidStart() {
        return {
          async willSendResponse({ request, document, operation, response }) {
            const { query } = request;
            if (operation?.operation !== 'query' || !document || typeof query !== 'string') return;
            if (response.body.kind !== 'single' || response.body.singleResult.errors) return;
            if (!documents.has(query)) documents.set(query, document);
          },
        };
      },
    };
  }

  /** A POST of a known query in the plain JSON shape, with variables that coerce; else undefined. */
  private known(request: DirectRequest): Known | undefined {
    if (request.method !== 'POST') return undefined;
    const { headers, body } = request;
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !JSON_BODY.test(contentType)) return undefined;
    if (headers.accept !== undefined && !PLAIN_ACCEPT.has(headers.accept)) return undefined;
    if (!isRecord(body)) return undefined;
    for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined;
    const { query, variables, operationName } = body;
    if (typeof query !== 'string') return undefined;
    if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return undefined;
    const document = this.documents.get(query);
    if (!document) return undefined;
    const operation = getOperationAST(document, operationName ?? undefined);
    if (operation?.operation !== 'query') return undefined;
    // Variables Apollo would refuse (BAD_USER_INPUT, HTTP 400) go to Apollo before anything is charged.
    const coerced = getVariableValues(this.deps.schema, operation.variableDefinitions ?? [], variables ?? {}, {
      maxErrors: 1,
    });
    if (coerced.errors) return undefined;
    return { query, document, operation, variables: variables ?? undefined, operationName: operationName ?? undefined };
  }

  /** The answer to `request`: from here when it is a known plain query that succeeds, else from Apollo. */
  async respond(
    request: DirectRequest,
    createContext: () => Promise<GatewayContext>,
    apollo: Apollo,
  ): Promise<HTTPGraphQLResponse> {
    const started = performance.now();
    const known = this.known(request);
    if (!known) return apollo();
    const creating = createContext();
    // Apollo reports a context that could not be made; it is handed the same attempt, not a second one.
    const context = await creating.catch(() => undefined);
    if (!context) return apollo(() => creating);
    const same = (): Promise<GatewayContext> => Promise.resolve(context);
    // The response cache records what an answer read through Apollo's hooks: those requests go there.
    if (context.responseRecorder) return apollo(same);
    const { document, operation, variables, operationName } = known;
    try {
      await this.deps.guard.authorize(document, operation, variables, context);
    } catch {
      this.documents.delete(known.query);
      return apollo(same); // refused: Apollo answers with the guard's coded error (charged once, see authorize)
    }
    const policy = newCachePolicy();
    collectCacheHints(context, policy);
    let result: ExecutionResult;
    try {
      result = await execute({
        schema: this.deps.schema,
        document,
        contextValue: context,
        variableValues: variables,
        operationName,
      });
    } catch {
      return apollo(same);
    }
    // Errors are formatted, masked, logged and counted by Apollo and our plugins: the query runs there
    // again, on the same context (its loaders already hold what this run read).
    if (result.errors?.length) {
      this.documents.delete(known.query);
      return apollo(same);
    }
    if (context.viewer) policy.restrict({ scope: 'PRIVATE' }); // as privateWhenSignedIn
    this.deps.guard.record({
      name: operation.name?.value ?? null,
      type: operation.operation,
      transport: 'http',
      started,
      errorCodes: [],
      context,
    });
    this.deps.metrics.directExecutions.inc();
    return {
      status: 200,
      headers: new HeaderMap([
        ['content-type', 'application/json; charset=utf-8'],
        ['cache-control', cacheControlHeader(policy, false)],
      ]),
      body: { kind: 'complete', string: `${JSON.stringify({ data: result.data })}\n` },
    };
  }
}
