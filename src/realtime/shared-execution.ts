// Subscription execution shared between subscribers. graphql-js executes the selection set once per
// subscriber for every event; for 1,000 subscribers to one seat map that was most of the gateway's CPU
// (bench/ticketing.ts). For root fields whose result depends only on the published payload and the
// operation (never on who asks), the result of one payload for one operation text and variables is
// computed once and handed to every subscriber with the same operation: the bus passes the same payload
// object to all of them, so a WeakMap on it holds the results exactly as long as the payload lives.
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  Kind,
  print,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';

/** Root subscription fields whose results are the same for every viewer (public seat maps and counts). */
const VIEWER_INDEPENDENT = new Set(['seatsChanged', 'eventAvailability']);

type Result = ExecutionResult | Promise<ExecutionResult>;

const shared = new WeakMap<object, Map<string, Result>>();

function shareKey(args: ExecutionArgs): string | undefined {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation || args.document.definitions.some((d) => d.kind === Kind.FRAGMENT_DEFINITION)) return undefined;
  const fields = operation.selectionSet.selections;
  const shareable = fields.every((f) => f.kind === Kind.FIELD && VIEWER_INDEPENDENT.has(f.name.value));
  return shareable ? `${print(operation)}\n${JSON.stringify(args.variableValues ?? {})}` : undefined;
}

/** A drop-in for graphql-js `subscribe` (graphql-ws's `subscribe` option). */
export async function subscribeShared(
  args: ExecutionArgs,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream as ExecutionResult;
  const source = stream as AsyncIterableIterator<unknown>;
  const key = shareKey(args);
  const run = (payload: unknown): Result => {
    if (key === undefined || typeof payload !== 'object' || payload === null)
      return execute({ ...args, rootValue: payload });
    let results = shared.get(payload);
    if (!results) shared.set(payload, (results = new Map()));
    let result = results.get(key);
    if (!result) results.set(key, (result = execute({ ...args, rootValue: payload })));
    return result;
  };
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      const step = await source.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await run(step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
  };
  return iterator;
}
