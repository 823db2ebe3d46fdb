// Query limits with graphql-armor: depth, cost, aliases, directives and tokens are refused during
// validation, before anything executes, with a clear message. Field suggestions ("did you mean ...")
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
    maxTokens: { n: limits.maxTokens },
    blockFieldSuggestion: { enabled: true },
  }).protect();
}
