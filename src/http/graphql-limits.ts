import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type DocumentNode, type ValidationContext } from 'graphql';
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
 * off); introspection off with INTROSPECTION=false. Validation runs once per document (see
 * useValidationOnce); yoga's own validation cache must be off (`validationCache: false`).
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
  const validating = plugins.filter((plugin) => plugin.onValidate) as Plugin[];
  return [...plugins.filter((plugin) => !plugin.onValidate), useValidationOnce(validating)];
}

function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

type OnValidate = NonNullable<Plugin['onValidate']>;
type ValidateDone = Exclude<ReturnType<OnValidate>, void>;
type ValidateResult = Parameters<ValidateDone>[0]['result'];

/**
 * The validation hooks of `plugins` as one, remembering each document's result. The rules are
 * the same for every request (one schema, fixed limits), so a document is valid or not once and
 * for all; yoga's parse cache hands out one DocumentNode per query text, the key here. This
 * replaces yoga's validation cache, which keys by the rules' names, joined anew on every request,
 * and lets the limits add their rules (new objects each time) before it looks.
 */
function useValidationOnce(plugins: Plugin[]): Plugin {
  const hooks = plugins.map((plugin) => plugin.onValidate!);
  const results = new WeakMap<DocumentNode, ValidateResult>();
  return {
    onValidate(payload) {
      const { documentAST } = payload.params;
      const known = results.get(documentAST);
      if (known) {
        payload.setResult(known);
        return;
      }
      const after = hooks.map((hook) => hook(payload)).filter((done): done is ValidateDone => typeof done === 'function');
      return (done) => {
        let { result } = done;
        for (const next of after) {
          next({
            ...done,
            result,
            valid: result.length === 0,
            setResult(changed) {
              result = changed;
              done.setResult(changed);
            },
          });
        }
        results.set(documentAST, result);
      };
    },
  };
}
