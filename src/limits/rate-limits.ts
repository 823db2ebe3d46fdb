// Rate limits by operation class (reads, writes, holds, sign-in), per user and per IP, charged by the
// operation guard (operation-guard.ts) once the operation is known and before anything executes, once
// per root field of a mutation. Over the limit: RATE_LIMITED with extensions.retryAfter, HTTP 429 and
// Retry-After.
//
// Reads are counted per instance, in memory: a Redis round trip on every read was an eighth of the CPU
// under load (bench/), and a read budget that is N times larger behind N instances is an acceptable
// trade. Writes, holds and sign-ins are counted in Redis, across every instance.
import {
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionNode,
} from 'graphql';
import type { RateLimiterRes } from 'rate-limiter-flexible';
import { RetryLaterError } from '../infra/errors.ts';
import type { Limiter, LimiterFactory } from './limiter-factory.ts';

export type OperationClass = 'read' | 'write' | 'hold' | 'signIn';

/** Requests per minute; the per-IP allowance is `ipMultiplier` times the per-user one (NAT, offices). */
export interface RateLimitPolicy {
  perMinute: Record<OperationClass, number>;
  ipMultiplier: number;
}

const SIGN_IN_FIELDS = new Set(['signIn', 'signUp']);
/** Mutations that claim seats or stock. */
const HOLD_FIELDS = new Set<string>(['holdSeats', 'confirmBooking']);

/** The root fields an operation selects, through inline fragments and fragment spreads. */
function rootFields(
  selections: readonly SelectionNode[],
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  seen = new Set<string>(),
): string[] {
  return selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFields(selection.selectionSet.selections, fragments, seen);
    const name = selection.name.value;
    const fragment = fragments.get(name);
    if (!fragment || seen.has(name)) return [];
    seen.add(name);
    return rootFields(fragment.selectionSet.selections, fragments, seen);
  });
}

/** By document: a parsed document is shared by every request with the same query text (Apollo's store). */
const fragmentMaps = new WeakMap<DocumentNode, ReadonlyMap<string, FragmentDefinitionNode>>();

export function fragmentsOf(document: DocumentNode): ReadonlyMap<string, FragmentDefinitionNode> {
  let fragments = fragmentMaps.get(document);
  if (!fragments) {
    fragments = new Map(
      document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
    );
    fragmentMaps.set(document, fragments);
  }
  return fragments;
}

/** What an operation is charged: its strictest class, once per root field for mutations. */
export interface Charge {
  operationClass: OperationClass;
  points: number;
  /** Root fields that check a password (signIn, signUp): at most one per request is accepted. */
  passwordFields: number;
}

/** The strictest class any root field of the operation falls in, and how many times it is charged. */
export function classify(operation: OperationDefinitionNode, document: DocumentNode): Charge {
  if (operation.operation !== 'mutation') return { operationClass: 'read', points: 1, passwordFields: 0 };
  const fields = rootFields(operation.selectionSet.selections, fragmentsOf(document));
  const passwordFields = fields.filter((f) => SIGN_IN_FIELDS.has(f)).length;
  // Each aliased copy of a mutation does its work again, so each is charged: 30 aliased writes are 30.
  const points = Math.max(1, fields.length);
  if (passwordFields) return { operationClass: 'signIn', points, passwordFields };
  if (fields.some((f) => HOLD_FIELDS.has(f))) return { operationClass: 'hold', points, passwordFields };
  return { operationClass: 'write', points, passwordFields };
}

export class RateLimits {
  private readonly perUser = new Map<OperationClass, Limiter>();
  private readonly perIp = new Map<OperationClass, Limiter>();

  constructor(limiters: LimiterFactory, policy: RateLimitPolicy) {
    for (const [name, points] of Object.entries(policy.perMinute) as [OperationClass, number][]) {
      const scope = name === 'read' ? 'instance' : 'global';
      this.perUser.set(name, limiters({ name: `${name}-user`, points, durationSeconds: 60, scope }));
      this.perIp.set(
        name,
        limiters({ name: `${name}-ip`, points: points * policy.ipMultiplier, durationSeconds: 60, scope }),
      );
    }
  }

  /** Consumes `points` requests of the class for the IP and, when signed in, the user; throws when over. */
  async consume(operationClass: OperationClass, ip: string, userId: string | undefined, points = 1): Promise<void> {
    try {
      const byIp = this.perIp.get(operationClass)!.consume(ip, points);
      // An anonymous read (every hit without a session) waits on one promise, not on Promise.all of one.
      await (userId ? Promise.all([byIp, this.perUser.get(operationClass)!.consume(userId, points)]) : byIp);
    } catch (rejection) {
      // rate-limiter-flexible rejects with a RateLimiterRes when over the limit; with an Error only when
      // both Redis and the insurance limiter failed, and then we let the request through.
      if (rejection instanceof Error) return;
      throw new RetryLaterError(
        `rate limit for ${operationClass} operations exceeded`,
        (rejection as RateLimiterRes).msBeforeNext / 1000,
      );
    }
  }
}
