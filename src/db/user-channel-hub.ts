import { Repeater } from 'graphql-yoga';
import { codedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Database } from './client.js';

export interface UserChannelHub<T> {
  /** One user's events from the moment this resolves, published by any process. */
  subscribe(userId: string): Promise<AsyncIterableIterator<T>>;
  close(): Promise<void>;
}

/**
 * How many events a subscriber may leave unread before its stream ends with SUBSCRIBER_TOO_SLOW.
 * Ending beats dropping: a client told it missed nothing would trust a state it never saw; this
 * one re-subscribes and re-reads. Below the 1024 pending pushes a Repeater allows.
 */
export const SUBSCRIBER_MAX_BACKLOG = 1000;

/** How much of an unparsable payload the warning quotes. */
const PAYLOAD_PREFIX_CHARS = 40;

/**
 * One LISTEN per process on `channel`, fanned out per user. `parse` turns a NOTIFY payload into
 * the events it carries, each with its user; a payload it throws on is logged and dropped.
 * The fan-out is a Map of Repeaters, not yoga's pub/sub, because the backlog bound needs to see
 * which events each subscriber has not read yet.
 */
export function createUserChannelHub<T>(
  database: Pick<Database, 'listen'>,
  channel: string,
  parse: (payload: string) => { userId: string; event: T }[],
  logger: Logger,
): UserChannelHub<T> {
  const subscribers = new Map<string, Set<Subscriber<T>>>();
  let listening: Promise<() => Promise<void>> | null = null;
  let established = false;

  const endAll = (error?: Error) => {
    for (const own of subscribers.values()) for (const subscriber of own) subscriber.end(error);
  };
  // postgres.js listens again after a reconnect; what was sent in between is lost. Streams that
  // were open then end, so their clients re-subscribe and re-read (as SUBSCRIBER_TOO_SLOW does).
  const onListen = () => {
    if (established) endAll(interrupted());
    established = true;
  };

  const onPayload = (payload: string) => {
    let events: { userId: string; event: T }[];
    try {
      events = parse(payload);
    } catch {
      logger.warn('unparsable NOTIFY payload dropped', { channel, payloadPrefix: payload.slice(0, PAYLOAD_PREFIX_CHARS) });
      return;
    }
    for (const { userId, event } of events) for (const subscriber of subscribers.get(userId) ?? []) subscriber.deliver(event);
  };

  const stream = (userId: string) =>
    new Repeater<T>((push, stop) => {
      let unread = 0;
      const deliver = (event: T) => {
        if (unread >= SUBSCRIBER_MAX_BACKLOG) {
          stop(tooSlow());
          return;
        }
        unread += 1;
        // An unbuffered push settles when the subscriber reads the event.
        push(event).then(() => (unread -= 1), () => {});
      };
      const subscriber: Subscriber<T> = { deliver, end: (error) => stop(error) };
      const own = subscribers.get(userId) ?? new Set();
      subscribers.set(userId, own.add(subscriber));
      stop.then(() => {
        own.delete(subscriber);
        if (own.size === 0 && subscribers.get(userId) === own) subscribers.delete(userId);
      });
    });

  return {
    async subscribe(userId) {
      if (!listening) established = false;
      listening ??= database.listen(channel, onPayload, onListen).catch((error: unknown) => {
        listening = null; // let the next subscriber try again
        throw error;
      });
      await listening;
      return started(stream(userId));
    },
    async close() {
      const unlisten = await listening?.catch(() => null);
      listening = null;
      endAll();
      await unlisten?.().catch(() => {});
    },
  };
}

interface Subscriber<T> {
  deliver(event: T): void;
  end(error?: Error): void;
}

function interrupted() {
  return codedError(
    'STREAM_INTERRUPTED',
    'The server lost its database notifications for a moment and events may have been missed; subscribe again and re-read the current state',
  );
}

function tooSlow() {
  return codedError(
    'SUBSCRIBER_TOO_SLOW',
    `This subscription left ${SUBSCRIBER_MAX_BACKLOG} events unread and was ended; subscribe again and re-read the current state`,
  );
}

/**
 * A Repeater runs its executor (and so subscribes) only on its first next(), which yoga calls
 * only once the client reads; this one subscribes now, so nothing published in between is lost.
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
