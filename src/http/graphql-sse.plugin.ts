import { randomUUID } from 'node:crypto';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { Plugin } from 'graphql-yoga';
import { readApiKey } from '../modules/users/api-key.js';

const TOKEN_HEADER = 'x-graphql-event-stream-token';

/**
 * graphql-sse's "single connection mode" on the GraphQL path: a PUT reserves a stream, a GET
 * with the token opens it, POSTs with the token run operations into it, a DELETE stops one.
 * Everything else (plain requests and the distinct-connection SSE that yoga speaks natively)
 * stays with yoga. Reserving needs a valid key, so nobody else can make the server hold streams.
 */
export function useGraphQLSSESingleConnection(
  graphqlEndpoint: string,
  isValidKey: (key: string) => Promise<boolean>,
): Plugin {
  const sse = useGraphQLSSE({
    endpoint: graphqlEndpoint,
    async authenticate(req) {
      const raw = req.raw as Request;
      const token = raw.headers.get(TOKEN_HEADER) ?? new URL(raw.url).searchParams.get('token');
      if (token) return token;
      const key = readApiKey(raw.headers);
      if (!key || !(await isValidKey(key))) return UNAUTHENTICATED;
      return randomUUID();
    },
  });
  return {
    onYogaInit: sse.onYogaInit,
    onRequest(payload) {
      const { request, url } = payload;
      if (url.pathname !== graphqlEndpoint || !isSingleConnection(request, url)) return;
      return sse.onRequest?.(payload);
    },
  };
}

const UNAUTHENTICATED = [
  JSON.stringify({ errors: [{ message: 'A valid API key is required to reserve a stream', extensions: { code: 'UNAUTHENTICATED' } }] }),
  { status: 401, statusText: 'Unauthorized', headers: { 'content-type': 'application/json; charset=utf-8' } },
] as const;

function isSingleConnection(request: Request, url: URL): boolean {
  // `url.search` first: searchParams builds an object, and plain requests have no query string.
  return request.method === 'PUT' || request.method === 'DELETE' || request.headers.has(TOKEN_HEADER) || (url.search !== '' && url.searchParams.has('token'));
}
