import type { Plugin } from 'graphql-yoga';
import { RequestLedger } from './request-ledger.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Gives each request its ledger (`ctx.rateLimit`), sets X-RateLimit-* from it on the response,
 * and closes the limiter's store when the app is disposed. The response hook sees the request,
 * not the context, hence the map from one to the other.
 */
export function useRateLimit(limiter: RateLimiter): Plugin<{ rateLimit: RequestLedger }> {
  const ledgers = new WeakMap<Request, RequestLedger>();
  return {
    onContextBuilding({ context, extendContext }) {
      const ledger = new RequestLedger(limiter);
      ledgers.set(context.request, ledger);
      extendContext({ rateLimit: ledger });
    },
    onResponse({ request, response }) {
      for (const [name, value] of Object.entries(ledgers.get(request)?.headers ?? {})) response.headers.set(name, value);
    },
    onDispose: () => limiter.close(),
  };
}
