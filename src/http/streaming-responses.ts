import type { ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';

// Node responses that carry a subscription stream (SSE, multipart): they never end by themselves,
// so a shutdown ends them (src/http/server.ts). Marked by the app, which knows what it answered:
// Node cannot tell afterwards, since whatwg-node writes plain header objects with writeHead, which
// getHeader() does not see.
const streaming = new WeakSet<ServerResponse>();
const waiting = new WeakMap<ServerResponse, () => void>();

const STREAM_TYPES = ['text/event-stream', 'multipart/mixed'];

export function useStreamingResponses(): Plugin<object, { res?: ServerResponse }> {
  return {
    onResponse({ response, serverContext }) {
      const { res } = serverContext;
      const type = response.headers.get('content-type');
      if (!res || !type || !STREAM_TYPES.some((t) => type.startsWith(t))) return;
      streaming.add(res);
      const then = waiting.get(res);
      waiting.delete(res);
      // After this hook the stream's head is written; run `then` once it is.
      if (then) setImmediate(then);
    },
  };
}

/** Calls `fn` now if `res` carries a stream, or as soon as it starts one (a request still on its way to it). */
export function whenStreaming(res: ServerResponse, fn: () => void): void {
  if (streaming.has(res)) fn();
  else waiting.set(res, fn);
}
