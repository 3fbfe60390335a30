import type { Plugin } from 'graphql-yoga';
import type { RequestLedger } from './request-ledger.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Sets X-RateLimit-* on the response from the request's ledger (`ctx.rateLimit`, made by the
 * context factory), and closes the limiter's store when the app is disposed. yoga builds the
 * GraphQL context on the server context, so the response hook finds the ledger there.
 */
export function useRateLimit(limiter: RateLimiter): Plugin<object, { rateLimit?: RequestLedger }> {
  return {
    onResponse({ serverContext, response }) {
      const headers = serverContext.rateLimit?.headers;
      for (const name in headers) response.headers.set(name, headers[name]!);
    },
    onDispose: () => limiter.close(),
  };
}
