import type { Plugin } from 'graphql-yoga';
import type { RequestRateLimit } from './request-rate-limit.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Sets X-RateLimit-Limit / -Remaining / -Reset (the most constrained root field of the
 * operation) on the response, and closes the limiter's store when the app is disposed.
 */
export function useRateLimitHeaders(limiter: RateLimiter): Plugin {
  return {
    onResponse({ request, response }) {
      const state: RequestRateLimit | undefined = limiter.stateOf(request);
      for (const [name, value] of Object.entries(state?.headers ?? {})) response.headers.set(name, value);
    },
    onDispose: () => limiter.close(),
  };
}
