import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { getDirectiveValues, GraphQLIncludeDirective, GraphQLSkipDirective, Kind } from 'graphql';
import type { GraphQLFieldResolver, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { isDatabaseUnavailable, serviceUnavailable } from '../db/unavailable.js';
import type { FieldCall } from './rate-limiter.js';
import type { RequestLedger } from './request-ledger.js';

type Resolver = GraphQLFieldResolver<unknown, object, object>;

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      rootFieldCharges: RootFieldChargesPlugin<Types>;
    }
  }
}

/**
 * Charges every root field (Query, Mutation, and Subscription at subscribe time) to the request's
 * ledger (`ctx.rateLimit`, see rate-limit.plugin.ts) before its resolver runs. Aliases are
 * separate calls, so each is charged. First in the builder's plugins, so it wraps the errors
 * plugin: an error returned as data counts as a field that ran.
 *
 * A mutation's root fields are all charged before the first runs, and one refused refuses the
 * operation: they run one after another, and a later field's refusal came after earlier ones had
 * changed data — which the answer then hid, as `data: null` (every root field is non-null), so a
 * client retrying it repeated them. Query fields are charged one by one, so a large query still
 * gets the fields within budget (docs/limits.md).
 */
class RootFieldChargesPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: Resolver, field: PothosOutputFieldConfig<Types>): Resolver {
    if (field.kind === 'Mutation') return charged(resolver, (ledger, call) => ledger.chargeOperation(() => rootFieldCalls(call)));
    return field.kind === 'Query' ? charged(resolver, (ledger, call) => ledger.charge(call)) : resolver;
  }

  override wrapSubscribe(subscribe: Resolver | undefined, field: PothosOutputFieldConfig<Types>): Resolver | undefined {
    return subscribe && field.kind === 'Subscription' ? charged(subscribe, (ledger, call) => ledger.charge(call)) : subscribe;
  }
}

/** One call per root field of the operation (per alias), as executed: fragments followed, @skip and @include applied. */
function rootFieldCalls({ context, info }: FieldCall): FieldCall[] {
  const names = new Map<string, string>();
  const visit = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, info)) continue;
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (!name.startsWith('__')) names.set(selection.alias?.value ?? name, name);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet);
      else {
        const fragment = info.fragments[selection.name.value];
        if (fragment) visit(fragment.selectionSet);
      }
    }
  };
  visit(info.operation.selectionSet);
  return [...names.values()].map((fieldName) => ({ args: {}, context, info: { ...info, fieldName } }));
}

function included(node: Parameters<typeof getDirectiveValues>[1], info: GraphQLResolveInfo): boolean {
  if (getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
}

function charged(resolve: Resolver, charge: (ledger: RequestLedger, call: FieldCall) => Promise<void>): Resolver {
  return async (parent, args, context, info) => {
    const ledger = (context as { rateLimit: RequestLedger }).rateLimit;
    await charge(ledger, { args, context, info });
    try {
      const value = await resolve(parent, args, context, info);
      ledger.fieldSucceeded();
      return value;
    } catch (caught) {
      // Coded here, so that a request none of whose fields could run answers 503 + Retry-After.
      const error = isDatabaseUnavailable(caught) ? serviceUnavailable() : caught;
      ledger.fieldFailed(error);
      throw error;
    }
  };
}

const pluginName = 'rootFieldCharges';
SchemaBuilder.registerPlugin(pluginName, RootFieldChargesPlugin);
export default pluginName;
