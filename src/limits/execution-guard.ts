// Checks made around every field resolver of the schema, for HTTP and WebSocket alike, because both
// execute the same schema object:
// - arguments: strings holding NUL (PostgreSQL refuses them in text) and decimals beyond the smallest
//   money column are BAD_USER_INPUT before any resolver or query runs, whatever the field;
// - list caps: a list field without `first` returns at most its cap (list-caps.ts), which is what the
//   query cost counted;
// - the operation's budget: fields resolved and time spent. Past either, the remaining fields fail with
//   RESPONSE_TOO_LARGE or OPERATION_TIMEOUT instead of holding the event loop and memory.
import { defaultFieldResolver, getNullableType, isListType, isObjectType, type GraphQLSchema } from 'graphql';
import { Decimal } from '@prisma/client/runtime/client';
import { BadUserInputError, ErrorCode, GatewayError } from '../infra/errors.ts';
import { LIST_CAPS } from './list-caps.ts';

/** Decimal(10, 2), the narrowest money column (seat and member prices): anything larger cannot be stored. */
const MAX_DECIMAL = new Decimal('99999999.99');

export interface ExecutionLimits {
  /** Wall-clock time an operation may execute for. */
  maxExecutionMs: number;
  /** Fields an operation may resolve: a bound on the size of its answer. */
  maxResolvedFields: number;
  /** Bytes of answer: estimated as fields resolve, so an oversized answer stops before it is built. */
  maxResponseBytes: number;
}

/** A field's name, quotes and punctuation in the JSON answer, about. */
const BYTES_PER_FIELD = 12;

class Budget {
  private fields = 0;
  private bytes = 0;
  private readonly deadline: number;
  private failure: GatewayError | undefined;

  constructor(private readonly limits: ExecutionLimits) {
    this.deadline = performance.now() + limits.maxExecutionMs;
  }

  charge(bytes: number): void {
    if (this.failure) throw this.failure;
    this.fields += 1;
    this.bytes += bytes;
    if (this.bytes > this.limits.maxResponseBytes) {
      this.failure = new GatewayError(
        `the answer would be over ${this.limits.maxResponseBytes} bytes: ask for smaller pages or fewer fields`,
        ErrorCode.RESPONSE_TOO_LARGE,
      );
    } else if (this.fields > this.limits.maxResolvedFields) {
      this.failure = new GatewayError(
        `the answer would be larger than allowed (over ${this.limits.maxResolvedFields} values): ask for less`,
        ErrorCode.RESPONSE_TOO_LARGE,
      );
    } else if ((this.fields & 63) === 0 && performance.now() > this.deadline) {
      this.failure = new GatewayError(
        `the operation ran longer than ${this.limits.maxExecutionMs} ms and was stopped`,
        ErrorCode.OPERATION_TIMEOUT,
      );
    }
    if (this.failure) throw this.failure;
  }
}

/** Budgets by context object: one per operation, started by the guard, read by every field resolver. */
export class ExecutionBudgets {
  private readonly budgets = new WeakMap<object, Budget>();

  constructor(private readonly limits: ExecutionLimits) {}

  start(context: object): void {
    this.budgets.set(context, new Budget(this.limits));
  }

  /** Charges one field and its estimated bytes; returns whether the context has a budget at all. */
  charge(context: unknown, bytes = BYTES_PER_FIELD): boolean {
    const budget = typeof context === 'object' && context !== null ? this.budgets.get(context) : undefined;
    budget?.charge(bytes);
    return budget !== undefined;
  }
}

function checkArgument(value: unknown, name: string, depth = 0): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) throw new BadUserInputError(`${name} must not contain a NUL character`, name);
  } else if (Decimal.isDecimal(value)) {
    if ((value as Decimal).abs().gt(MAX_DECIMAL))
      throw new BadUserInputError(`${name} must be at most ${MAX_DECIMAL.toFixed(2)}`, name);
  } else if (Array.isArray(value)) {
    for (const item of value) checkArgument(item, name, depth + 1);
  } else if (typeof value === 'object' && value !== null && depth < 16 && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) checkArgument(item, key, depth + 1);
  }
}

/** Checks every argument of a field (coerced, so variables and literals alike). */
export function checkArguments(args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) checkArgument(value, name);
}

/** Wraps every field resolver (and subscribe function) of the schema in place; returns the schema. */
export function guardSchema(schema: GraphQLSchema, budgets: ExecutionBudgets): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve ?? defaultFieldResolver;
      const hasArgs = field.args.length > 0;
      const cap = isListType(getNullableType(field.type)) ? LIST_CAPS[`${type.name}.${field.name}`] : undefined;
      field.resolve = (source, args, context, info) => {
        const budgeted = budgets.charge(context);
        if (hasArgs) checkArguments(args);
        const result = resolve(source, args, context, info);
        // Text is most of an answer's bytes; it is charged as it is resolved.
        if (budgeted && typeof result === 'string') budgets.charge(context, result.length);
        if (cap === undefined) return result;
        const cut = (items: unknown): unknown =>
          Array.isArray(items) && items.length > cap ? items.slice(0, cap) : items;
        return result instanceof Promise ? result.then(cut) : cut(result);
      };
      if (field.subscribe && hasArgs) {
        const subscribe = field.subscribe;
        field.subscribe = (source, args, context, info) => {
          checkArguments(args);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  return schema;
}
