// Query limits with graphql-armor: depth, cost, aliases and directives are refused during validation,
// before anything executes, with a clear message. The token limit is graphql-js's own parser option
// (ApolloServer parseOptions.maxTokens): armor's token plugin re-parses in a hook, where a syntax
// error becomes an HTTP 500. Field suggestions ("did you mean ...")
// are blocked so the schema cannot be mapped by guessing. Every list argument is capped separately
// (src/graphql/arguments.ts parsePageSize: 1..100).
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Config } from '../config.ts';

export function queryLimits(limits: Config['queryLimits']) {
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth },
    costLimit: { maxCost: limits.maxCost },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: true },
  }).protect();
}
