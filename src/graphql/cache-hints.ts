// The answer's cache policy from the schema's @cacheControl hints, computed where fields resolve instead
// of through Apollo's cache control plugin. Apollo's plugin hooks every field of every request
// (willResolveField: a policy object, two LRU lookups and a promise callback per field); the hints are
// static, so each field's contribution is worked out once here, and only fields that contribute get a
// wrapper. The rules are Apollo's own (@apollo/server plugin/cacheControl): a field's hint, else its
// return type's; inheritMaxAge; a root field or a composite field without maxAge makes the answer
// uncacheable (maxAge 0); the header is `max-age=N, public|private` or `no-store`.
// Dynamic hints (info.cacheControl.setCacheHint) are not offered: no resolver sets one.
import {
  defaultFieldResolver,
  getNamedType,
  isCompositeType,
  isObjectType,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';

export type CacheScope = 'PUBLIC' | 'PRIVATE';

export interface CacheHint {
  maxAge?: number;
  scope?: CacheScope;
}

interface Annotation extends CacheHint {
  inheritMaxAge?: true;
}

/** The policy an answer is building: the same shape and rules as Apollo's overallCachePolicy. */
export interface CachePolicy extends CacheHint {
  restrict(hint: CacheHint): void;
  policyIfCacheable(): Required<CacheHint> | null;
}

export function newCachePolicy(): CachePolicy {
  return {
    maxAge: undefined,
    scope: undefined,
    restrict(hint) {
      if (hint.maxAge !== undefined && (this.maxAge === undefined || hint.maxAge < this.maxAge))
        this.maxAge = hint.maxAge;
      if (hint.scope !== undefined && this.scope !== 'PRIVATE') this.scope = hint.scope;
    },
    policyIfCacheable() {
      if (this.maxAge === undefined || this.maxAge === 0) return null;
      return { maxAge: this.maxAge, scope: this.scope ?? 'PUBLIC' };
    },
  };
}

/** Where a field resolver finds the policy of the answer it is part of (set per request). */
const POLICY = Symbol('cachePolicy');

/** Fields resolved for this context restrict `policy` from now on. */
export function collectCacheHints(context: object, policy: CachePolicy): void {
  Object.defineProperty(context, POLICY, { value: policy, configurable: true });
}

function fromDirectives(directives: readonly ConstDirectiveNode[] | undefined): Annotation | undefined {
  const directive = directives?.find((d) => d.name.value === 'cacheControl');
  if (!directive?.arguments) return undefined;
  const argument = (name: string) => directive.arguments?.find((a) => a.name.value === name)?.value;
  const scopeValue = argument('scope');
  const scopeName = scopeValue?.kind === 'EnumValue' ? scopeValue.value : undefined;
  const scope = scopeName === 'PUBLIC' || scopeName === 'PRIVATE' ? scopeName : undefined;
  const inherit = argument('inheritMaxAge');
  if (inherit?.kind === 'BooleanValue' && inherit.value) return { inheritMaxAge: true, scope };
  const maxAge = argument('maxAge');
  return { maxAge: maxAge?.kind === 'IntValue' ? Number.parseInt(maxAge.value, 10) : undefined, scope };
}

function typeAnnotation(type: GraphQLNamedType): Annotation {
  const nodes = [type.astNode, ...(type.extensionASTNodes ?? [])];
  for (const node of nodes) {
    const hint = fromDirectives(node?.directives);
    if (hint) return hint;
  }
  return {};
}

/** What resolving the field adds to the answer's policy, nested and at the root of the operation. */
function fieldHints(field: GraphQLField<unknown, unknown>): { nested: CacheHint; root: CacheHint } {
  const hint: CacheHint = {};
  let inheritMaxAge = false;
  const target = getNamedType(field.type);
  const composite = isCompositeType(target);
  if (composite) {
    const annotation = typeAnnotation(target);
    if (annotation.maxAge !== undefined) hint.maxAge = annotation.maxAge;
    if (annotation.scope !== undefined) hint.scope = annotation.scope;
    inheritMaxAge = !!annotation.inheritMaxAge;
  }
  const own = fromDirectives(field.astNode?.directives) ?? {};
  if (own.inheritMaxAge && hint.maxAge === undefined) {
    inheritMaxAge = true;
    if (own.scope) hint.scope = own.scope;
  } else {
    if (own.maxAge !== undefined) hint.maxAge = own.maxAge;
    if (own.scope !== undefined) hint.scope = own.scope;
  }
  const uncacheable = hint.maxAge === undefined;
  return {
    nested: uncacheable && composite && !inheritMaxAge ? { ...hint, maxAge: 0 } : hint,
    root: uncacheable ? { ...hint, maxAge: 0 } : hint,
  };
}

const contributes = (hint: CacheHint): boolean => hint.maxAge !== undefined || hint.scope !== undefined;

/** Wraps, in place, the resolvers of the fields whose hints restrict an answer; returns the schema. */
export function recordCacheHints(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const { nested, root } = fieldHints(field);
      if (!contributes(nested) && !contributes(root)) continue;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        const policy = (context as { [POLICY]?: CachePolicy } | null)?.[POLICY];
        policy?.restrict(info.path.prev === undefined ? root : nested);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}

/** The Cache-Control header of an answer: Apollo's rule (cacheable only without errors). */
export function cacheControlHeader(policy: CachePolicy, hasErrors: boolean): string {
  const cacheable = policy.policyIfCacheable();
  return cacheable && !hasErrors ? `max-age=${cacheable.maxAge}, ${cacheable.scope.toLowerCase()}` : 'no-store';
}

const CACHEABLE_HEADER = /^max-age=(\d+), (public|private)$/;

/**
 * Apollo's cache control plugin without its per-field hook (disable Apollo's own beside it): fields
 * restrict the request's overallCachePolicy through recordCacheHints, and the header is set at the end
 * as Apollo sets it, respecting a Cache-Control a plugin already put on the response.
 */
export function cacheHintsPlugin<C extends object>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async executionDidStart({ contextValue, overallCachePolicy }) {
          // As Apollo: a policy restricted before execution is left as it is.
          if (overallCachePolicy.maxAge !== undefined || overallCachePolicy.scope !== undefined) return;
          collectCacheHints(contextValue, overallCachePolicy);
        },
        async willSendResponse({ response, overallCachePolicy }) {
          const existing = response.http.headers.get('cache-control');
          const policy = newCachePolicy();
          policy.restrict(overallCachePolicy);
          if (existing) {
            if (existing === 'no-store') return;
            const match = CACHEABLE_HEADER.exec(existing);
            if (!match) return;
            policy.restrict({ maxAge: Number(match[1]), scope: match[2] === 'public' ? 'PUBLIC' : 'PRIVATE' });
          }
          const errors = response.body.kind !== 'single' || !!response.body.singleResult.errors;
          response.http.headers.set('cache-control', cacheControlHeader(policy, errors));
        },
      };
    },
  };
}
