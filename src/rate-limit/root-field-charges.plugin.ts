import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { isDatabaseUnavailable, serviceUnavailable } from '../db/unavailable.js';
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
 */
class RootFieldChargesPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: Resolver, field: PothosOutputFieldConfig<Types>): Resolver {
    return field.kind === 'Query' || field.kind === 'Mutation' ? charged(resolver) : resolver;
  }

  override wrapSubscribe(subscribe: Resolver | undefined, field: PothosOutputFieldConfig<Types>): Resolver | undefined {
    return subscribe && field.kind === 'Subscription' ? charged(subscribe) : subscribe;
  }
}

function charged(resolve: Resolver): Resolver {
  return async (parent, args, context, info) => {
    const ledger = (context as { rateLimit: RequestLedger }).rateLimit;
    await ledger.charge({ args, context, info });
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
