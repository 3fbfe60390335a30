import type { ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';

// Node responses that carry a stream that never ends by itself — a subscription over SSE or
// multipart, or a graphql-sse single-connection stream — so a shutdown ends them
// (src/http/server.ts). A query or mutation answered as an event stream ends by itself and is
// left to finish: cut, a mutation's result would be lost after it ran. Marked by the app, which
// knows what it answered: Node cannot tell afterwards (whatwg-node writes plain header objects
// with writeHead, which getHeader() does not see).
const streaming = new WeakSet<ServerResponse>();
const waiting = new WeakMap<ServerResponse, () => void>();
const subscribing = new WeakSet<ServerResponse>();
const endless = new WeakSet<Response>();

const STREAM_TYPES = ['text/event-stream', 'multipart/mixed'];

/** Marks a response that streams until its client goes (a graphql-sse single-connection stream). */
export function endlessResponse(response: Response): Response {
  endless.add(response);
  return response;
}

export function useStreamingResponses(): Plugin<{ res?: ServerResponse }, { res?: ServerResponse }> {
  return {
    onSubscribe({ args }) {
      // Over HTTP the context holds the node response (yoga passes the server context on).
      const { res } = args.contextValue as { res?: ServerResponse };
      if (res) subscribing.add(res);
    },
    onResponse({ response, serverContext }) {
      const { res } = serverContext;
      if (!res || !(subscribing.has(res) || endless.has(response))) return;
      const type = response.headers.get('content-type');
      if (!type || !STREAM_TYPES.some((t) => type.startsWith(t))) return;
      streaming.add(res);
      const then = waiting.get(res);
      waiting.delete(res);
      // After this hook the stream's head is written; run `then` once it is.
      if (then) setImmediate(then);
    },
  };
}

/** Calls `fn` now if `res` carries an endless stream, or as soon as it starts one (a request still on its way to it). */
export function whenStreaming(res: ServerResponse, fn: () => void): void {
  if (streaming.has(res)) fn();
  else waiting.set(res, fn);
}
