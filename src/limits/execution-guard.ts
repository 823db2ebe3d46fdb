// Checks made around every field resolver of the schema, for HTTP and WebSocket alike, because both
// execute the same schema object:
// - arguments: strings holding NUL (PostgreSQL refuses them in text) and decimals beyond the smallest
//   money column are BAD_USER_INPUT before any resolver or query runs, whatever the field;
// - list caps: a list field without `first` returns at most its cap (list-caps.ts), which is what the
//   query cost counted;
// - the operation's budget: fields resolved and time spent. Past either, the remaining fields fail with
//   RESPONSE_TOO_LARGE or OPERATION_TIMEOUT instead of holding the event loop and memory.
import {
  defaultFieldResolver,
  getNullableType,
  isListType,
  isNonNullType,
  isObjectType,
  GraphQLError,
  type GraphQLSchema,
} from 'graphql';
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

/** An operation out of time or answer size: RESPONSE_TOO_LARGE or OPERATION_TIMEOUT. */
export class BudgetExceededError extends GatewayError {
  constructor(message: string, code: typeof ErrorCode.RESPONSE_TOO_LARGE | typeof ErrorCode.OPERATION_TIMEOUT) {
    super(message, code);
  }
}

/**
 * Whether an unhandled rejection is graphql-js giving up on a branch of an operation whose budget ran
 * out: graphql-js 16 stops completing an object at the first field that throws synchronously and drops
 * the promises of its sibling fields, and those reject later, with the same budget error or with
 * whatever error a sibling field had (located at its path). They are expected and harmless: the
 * operation already answered. Any other unhandled rejection is still a bug.
 */
export function isAbandonedBudgetBranch(reason: unknown): boolean {
  const original = (reason as { originalError?: unknown } | null)?.originalError ?? reason;
  return original instanceof BudgetExceededError || (reason instanceof GraphQLError && reason.path !== undefined);
}

/**
 * Lets abandoned budget branches pass instead of ending the process (Node's default for unhandled
 * rejections), and keeps that default for everything else. Returns the function that removes it.
 */
export function tolerateAbandonedBudgetBranches(): () => void {
  const listener = (reason: unknown): void => {
    if (isAbandonedBudgetBranch(reason)) return;
    throw reason; // as Node does without a listener: an uncaught exception
  };
  process.on('unhandledRejection', listener);
  return () => process.off('unhandledRejection', listener);
}

class Budget {
  private fields = 0;
  private bytes = 0;
  private readonly deadline: number;
  private failure: BudgetExceededError | undefined;

  constructor(private readonly limits: ExecutionLimits) {
    this.deadline = performance.now() + limits.maxExecutionMs;
  }

  /**
   * Returns true when the field may run; throws the failure for the field that crosses a limit and for
   * later non-null fields. Later nullable fields get false (they answer null): one error per operation
   * rather than one per remaining field, since building errors is itself work.
   */
  charge(bytes: number, nullable: boolean): boolean {
    if (this.failure) {
      if (nullable) return false;
      throw this.failure;
    }
    this.fields += 1;
    this.bytes += bytes;
    if (this.bytes > this.limits.maxResponseBytes) {
      this.failure = new BudgetExceededError(
        `the answer would be over ${this.limits.maxResponseBytes} bytes: ask for smaller pages or fewer fields`,
        ErrorCode.RESPONSE_TOO_LARGE,
      );
    } else if (this.fields > this.limits.maxResolvedFields) {
      this.failure = new BudgetExceededError(
        `the answer would be larger than allowed (over ${this.limits.maxResolvedFields} values): ask for less`,
        ErrorCode.RESPONSE_TOO_LARGE,
      );
    } else if ((this.fields & 63) === 0 && performance.now() > this.deadline) {
      this.failure = new BudgetExceededError(
        `the operation ran longer than ${this.limits.maxExecutionMs} ms and was stopped`,
        ErrorCode.OPERATION_TIMEOUT,
      );
    }
    if (this.failure) throw this.failure;
    return true;
  }
}

/** Budgets by context object: one per operation, started by the guard, read by every field resolver. */
export class ExecutionBudgets {
  private readonly budgets = new WeakMap<object, Budget>();

  constructor(private readonly limits: ExecutionLimits) {}

  start(context: object): void {
    this.budgets.set(context, new Budget(this.limits));
  }

  /**
   * Charges one field and its estimated bytes: 'free' without a budget (subscriptions), 'run' within it,
   * 'skip' for a nullable field once the budget is spent; throws for the others.
   */
  charge(context: unknown, nullable: boolean, bytes = BYTES_PER_FIELD): 'free' | 'run' | 'skip' {
    const budget = typeof context === 'object' && context !== null ? this.budgets.get(context) : undefined;
    if (!budget) return 'free';
    return budget.charge(bytes, nullable) ? 'run' : 'skip';
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
      const nullable = !isNonNullType(field.type);
      const cap = isListType(getNullableType(field.type)) ? LIST_CAPS[`${type.name}.${field.name}`] : undefined;
      const cut = (items: unknown): unknown =>
        cap !== undefined && Array.isArray(items) && items.length > cap ? items.slice(0, cap) : items;
      field.resolve = (source, args, context, info) => {
        try {
          const charged = budgets.charge(context, nullable);
          if (charged === 'skip') return null;
          if (hasArgs) checkArguments(args);
          const result = resolve(source, args, context, info);
          // Text is most of an answer's bytes; it is charged as it is resolved.
          if (charged === 'run' && typeof result === 'string') budgets.charge(context, nullable, result.length);
          if (cap === undefined) return result;
          return result instanceof Promise ? result.then(cut) : cut(result);
        } catch (error) {
          // A spent budget is thrown synchronously, so graphql-js stops at once rather than failing every
          // remaining field one by one (the branches it drops: tolerateAbandonedBudgetBranches). Any other
          // error becomes a rejected promise, handled like any async failure: thrown synchronously, it too
          // would make graphql-js drop sibling promises, whose later rejections nobody would handle.
          if (error instanceof BudgetExceededError) throw error;
          return Promise.reject(error);
        }
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
