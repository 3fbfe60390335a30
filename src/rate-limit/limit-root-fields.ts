import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { isDatabaseUnavailable, serviceUnavailable } from '../db/unavailable.js';
import type { CallerContext, RequestRateLimit } from './request-rate-limit.js';

type LimitedContext = CallerContext & { rateLimit?: RequestRateLimit };
type Resolver = GraphQLFieldResolver<unknown, LimitedContext>;

const limitedSchemas = new WeakSet<GraphQLSchema>();

/**
 * Charges every root field (Query, Mutation, and Subscription at subscribe time) against the
 * request's rate limit before its resolver runs. Aliases are separate calls, so each is charged.
 * The wrapper reads the limiter from the context, so one schema serves apps with different
 * stores; it is installed once per schema.
 */
export function limitRootFields(schema: GraphQLSchema): void {
  if (limitedSchemas.has(schema)) return;
  limitedSchemas.add(schema);
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      field.resolve = charged((field.resolve ?? defaultFieldResolver) as Resolver);
    }
  }
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    if (field.subscribe) field.subscribe = charged(field.subscribe as Resolver);
  }
}

function charged(resolve: Resolver): Resolver {
  return async (parent, args, context, info) => {
    const rateLimit = context.rateLimit;
    if (!rateLimit) return resolve(parent, args, context, info);
    await rateLimit.enter({ parent, args, context, info });
    try {
      const value = await resolve(parent, args, context, info);
      rateLimit.fieldSucceeded();
      return value;
    } catch (caught) {
      // Coded here, so that a request none of whose fields could run answers 503 + Retry-After.
      const error = isDatabaseUnavailable(caught) ? serviceUnavailable() : caught;
      rateLimit.fieldFailed(error);
      throw error;
    }
  };
}
