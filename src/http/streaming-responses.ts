import type { ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';

// Node responses that carry a subscription stream (SSE, multipart): they never end by themselves,
// so a shutdown ends them (src/http/server.ts). Marked by the app, which knows what it answered:
// Node cannot tell afterwards, since whatwg-node writes plain header objects with writeHead, which
// getHeader() does not see.
const streaming = new WeakSet<ServerResponse>();

const STREAM_TYPES = ['text/event-stream', 'multipart/mixed'];

export function useStreamingResponses(): Plugin<object, { res?: ServerResponse }> {
  return {
    onResponse({ response, serverContext }) {
      const type = response.headers.get('content-type');
      if (serverContext.res && type && STREAM_TYPES.some((t) => type.startsWith(t))) streaming.add(serverContext.res);
    },
  };
}

export const isStreamingResponse = (res: ServerResponse): boolean => streaming.has(res);
