import { createPubSub } from 'graphql-yoga';
import type { Database } from './client.js';

export interface UserChannelHub<T> {
  /** One user's events from the moment this resolves, published by any process. */
  subscribe(userId: string): Promise<AsyncIterableIterator<T>>;
  close(): Promise<void>;
}

/**
 * One LISTEN per process on `channel`, fanned out per user through yoga's pub/sub. `parse` turns
 * a NOTIFY payload into the events it carries, each with its user; a payload it throws on, or
 * that carries none, is dropped.
 */
export function createUserChannelHub<T>(
  database: Pick<Database, 'listen'>,
  channel: string,
  parse: (payload: string) => { userId: string; event: T }[],
): UserChannelHub<T> {
  // The topic's payload is typed unknown: yoga's pub/sub types it through a conditional that a
  // generic T cannot resolve; the stream is cast back to T where it is handed out.
  const pubSub = createPubSub<{ event: [userId: string, event: unknown] }>();
  let listening: Promise<() => Promise<void>> | null = null;

  const onPayload = (payload: string) => {
    let events: { userId: string; event: T }[];
    try {
      events = parse(payload);
    } catch {
      return;
    }
    for (const { userId, event } of events) pubSub.publish('event', userId, event);
  };

  return {
    async subscribe(userId) {
      listening ??= database.listen(channel, onPayload).catch((error: unknown) => {
        listening = null; // let the next subscriber try again
        throw error;
      });
      await listening;
      return started(pubSub.subscribe('event', userId) as AsyncIterableIterator<T>);
    },
    async close() {
      const unlisten = await listening?.catch(() => null);
      listening = null;
      await unlisten?.().catch(() => {});
    },
  };
}

/**
 * A Repeater (what yoga's pub/sub hands out) subscribes only on its first next(), which yoga
 * calls only once the client reads; this one subscribes now, so nothing published in between is lost.
 */
function started<T>(source: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  let first: Promise<IteratorResult<T>> | null = source.next();
  const iterator: AsyncIterableIterator<T> = {
    next() {
      const next = first ?? source.next();
      first = null;
      return next;
    },
    return: async () => (await source.return?.()) ?? { done: true, value: undefined },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
