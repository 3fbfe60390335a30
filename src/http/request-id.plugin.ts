import { randomUUID } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

// A proxy's or client's own id is kept when it is short and plain, so both sides can search for it.
const SANE_REQUEST_ID = /^[\w.:-]{1,128}$/;

export interface RequestIdServerContext {
  requestId?: string;
}

/** The request's X-Request-Id when it is sane, else a new UUID. */
export function requestIdOf(request: Request): string {
  const incoming = request.headers.get('x-request-id');
  return incoming && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Gives every HTTP request its id before any other plugin runs and answers it in X-Request-Id;
 * the context, its logger and masked errors read the same id from the server context.
 */
export function useRequestId(): Plugin<object, RequestIdServerContext> {
  return {
    onRequest({ request, serverContext }) {
      serverContext.requestId = requestIdOf(request);
    },
    onResponse({ request, response, serverContext }) {
      // yoga's own answers in onRequest (/health, the GraphiQL page) come before this plugin's.
      serverContext.requestId ??= requestIdOf(request);
      response.headers.set('X-Request-Id', serverContext.requestId);
    },
  };
}
