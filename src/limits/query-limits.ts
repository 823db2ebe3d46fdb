// Query limits with graphql-armor: depth, aliases and directives are refused during validation,
// before anything executes, with a clear message. The token limit is graphql-js's own parser option
// (ApolloServer parseOptions.maxTokens): armor's token plugin re-parses in a hook, where a syntax
// error becomes an HTTP 500. The cost limit is the operation guard's (query-cost.ts), with variables.
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Config } from '../config.ts';

export function queryLimits(limits: Config['queryLimits']) {
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth },
    // Cost is ours (query-cost.ts): armor's does not multiply by page sizes or see variables.
    costLimit: { enabled: false },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { enabled: false },
    // Suggestions are removed in maskError (src/infra/errors.ts) in one linear pass; armor's regex
    // backtracks on messages that quote client input.
    blockFieldSuggestion: { enabled: false },
  }).protect();
}
