import type { Plugin } from 'graphql-yoga';
import { codedError } from '../errors.js';

type StreamContext = { viewer?: { id: string } | null; clientAddress?: string };

/**
 * At most `max` open subscription streams per account, all its API keys together (per client address without one), in
 * this process. A stream holds its place from subscribe until it ends or the client goes away.
 */
export function useStreamLimit(max: number): Plugin {
  const open = new Map<string, number>();
  const release = (key: string) => {
    const left = (open.get(key) ?? 1) - 1;
    if (left > 0) open.set(key, left);
    else open.delete(key);
  };
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as StreamContext;
      const key = ctx.viewer ? `user:${ctx.viewer.id}` : `address:${ctx.clientAddress ?? 'unknown'}`;
      const count = open.get(key) ?? 0;
      if (count >= max) {
        setResultAndStopExecution({
          errors: [codedError('TOO_MANY_STREAMS', `At most ${max} subscription streams may be open per account (all its API keys together); close one first`, { limit: max })],
          // As graphql-sse's own refusal: over SSE and multipart the answer is 429, not 200.
          extensions: { http: { status: 429 } },
        });
        return;
      }
      open.set(key, count + 1);
      let released = false;
      const once = () => {
        if (!released) release(key);
        released = true;
      };
      return {
        // onEnd runs when the stream finishes or the client goes away (return()).
        onSubscribeResult: ({ result }) => (isAsyncIterable(result) ? { onEnd: once } : once()),
        onSubscribeError: once,
      };
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
