import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../env.js';

type ArmorPlugin = ReturnType<EnvelopArmor['protect']>['plugins'][number];

/** Bounds on one operation's document; each refusal is a validation error naming the limit. */
export const GRAPHQL_LIMITS = {
  maxDepth: 10,
  maxCost: 5000,
  maxAliases: 15,
  maxDirectives: 10,
  maxTokens: 2000,
} as const;

// Armor's default throws from inside validation, which reaches the client as an uncoded error
// titled "Syntax Error"; reported this way it is an ordinary, coded validation error.
const reportAsValidationError = () => ({
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(
        new GraphQLError(error.message.replace(/^Syntax Error: /, ''), {
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        }),
      ),
  ],
});

/**
 * GraphQL Armor's depth, cost, alias, directive and token limits; "Did you mean …?" field
 * suggestions masked in production (they map the schema for an attacker when introspection is
 * off); introspection off with INTROSPECTION=false.
 */
export function graphqlLimits(config: Pick<Config, 'NODE_ENV' | 'INTROSPECTION'>): Array<Plugin | ArmorPlugin> {
  const armor = new EnvelopArmor({
    maxDepth: { n: GRAPHQL_LIMITS.maxDepth, ...reportAsValidationError() },
    costLimit: { maxCost: GRAPHQL_LIMITS.maxCost, ...reportAsValidationError() },
    maxAliases: { n: GRAPHQL_LIMITS.maxAliases, ...reportAsValidationError() },
    maxDirectives: { n: GRAPHQL_LIMITS.maxDirectives, ...reportAsValidationError() },
    maxTokens: { n: GRAPHQL_LIMITS.maxTokens },
    blockFieldSuggestion: { enabled: config.NODE_ENV === 'production' },
  });
  const plugins: Array<Plugin | ArmorPlugin> = [...armor.protect().plugins];
  if (!config.INTROSPECTION) plugins.push(useNoIntrospection());
  return plugins;
}

function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
