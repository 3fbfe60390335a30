import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { codedError } from '../errors.js';
import { hashApiKey, readApiKey } from '../modules/users/api-key.js';

interface KeyRemovals {
  onKeyRemoved(listener: (keyHash: string | null) => void): () => void;
  isCurrent(keyHash: string): Promise<boolean>;
}

export const KEY_REMOVED_MESSAGE = 'The API key of this stream was revoked (or its account removed); the stream ends';

/**
 * A key is checked when a stream opens, not for every event it carries: without this, a revoked
 * key (or a removed user's) kept receiving events on the streams it had open, over SSE, multipart
 * and WebSocket alike. Each stream opened with a key ends, with one UNAUTHENTICATED event, as soon
 * as this process hears of the key's removal (the same NOTIFY that clears the key cache on every
 * instance); when removals may have gone unheard, every open stream's key is checked again.
 */
export function useEndStreamsOfRemovedKeys(keys: KeyRemovals): Plugin {
  const open = new Map<string, Set<() => void>>();
  let listening = false;

  const end = (keyHash: string) => {
    for (const stop of [...(open.get(keyHash) ?? [])]) stop();
  };
  const onRemoved = (keyHash: string | null) => {
    if (keyHash !== null) return end(keyHash);
    for (const hash of [...open.keys()]) {
      keys.isCurrent(hash).then(
        (current) => current || end(hash),
        () => {}, // unreachable database: checked again at the next removal or re-listen
      );
    }
  };
  const watch = (keyHash: string, stop: () => void) => {
    if (!listening) {
      listening = true;
      keys.onKeyRemoved(onRemoved);
    }
    const streams = open.get(keyHash) ?? new Set();
    streams.add(stop);
    open.set(keyHash, streams);
    // The key was checked when the request's context was made; a removal heard since then, before
    // this stream was watched (its resolver ran in between), would go unseen: checked once more.
    keys.isCurrent(keyHash).then(
      (current) => current || stop(),
      () => {},
    );
    return () => {
      streams.delete(stop);
      if (streams.size === 0 && open.get(keyHash) === streams) open.delete(keyHash);
    };
  };

  return {
    onSubscribe({ args }) {
      const ctx = args.contextValue as { viewer?: unknown; request?: Request };
      const apiKey = ctx.viewer && ctx.request ? readApiKey(ctx.request.headers) : null;
      if (!apiKey) return;
      const keyHash = hashApiKey(apiKey);
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endingWith(result as AsyncIterable<ExecutionResult>, (stop) => watch(keyHash, stop)));
        },
      };
    },
  };
}

/**
 * `source`, until the stop that `watch` is given is called: then one UNAUTHENTICATED event, and the
 * end. Each `next` races the source with a wake-up of its own (one promise shared by every `next`
 * would hold every event the stream ever carried, through its reactions, until the stream ended).
 */
function endingWith(source: AsyncIterable<ExecutionResult>, watch: (stop: () => void) => () => void): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let stopped = false;
  let wake: (() => void) | null = null;
  const unwatch = watch(() => {
    stopped = true;
    wake?.();
  });
  let finished = false;
  /** Lets go of the watch, once; true the first time. */
  const release = () => {
    if (finished) return false;
    finished = true;
    unwatch();
    return true;
  };
  const finish = async () => {
    if (release()) await Promise.resolve(iterator.return?.()).catch(() => {});
  };
  const stream: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (finished) return { done: true, value: undefined };
      if (!stopped) {
        const woken = new Promise<'stopped'>((resolve) => (wake = () => resolve('stopped')));
        let step: IteratorResult<ExecutionResult> | 'stopped';
        try {
          step = await Promise.race([iterator.next(), woken]);
        } catch (error) {
          // graphql-ws's for-await does not call return() after a throw: let go of the watch here.
          release();
          throw error;
        } finally {
          wake = null;
        }
        if (step !== 'stopped') {
          if (step.done) release();
          return step;
        }
      }
      void finish();
      return { done: false, value: { errors: [codedError('UNAUTHENTICATED', KEY_REMOVED_MESSAGE)] } };
    },
    async return() {
      await finish();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => stream,
  };
  return stream;
}
