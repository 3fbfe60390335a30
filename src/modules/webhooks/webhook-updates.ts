import { sql } from 'drizzle-orm';
import { createPubSub } from 'graphql-yoga';
import type { Database, Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';

/** Every change of a user's webhook (set, disabled, enabled, secret rotated); the payload is the user id. */
const WEBHOOK_UPDATED_CHANNEL = 'alertwire_webhook_updated';

/** Publishes inside the caller's transaction, so listeners hear of the change once it is committed. */
export async function notifyWebhookUpdated(tx: Db, userId: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${WEBHOOK_UPDATED_CHANNEL}, ${userId})`);
}

export interface WebhookUpdates {
  /** A signal per change of this user's webhook, from any process, from the moment this resolves. */
  subscribe(userId: string): Promise<AsyncIterable<string>>;
  close(): Promise<void>;
}

/** One LISTEN per process, fanned out by yoga's pub/sub to the subscribers of each user. */
export function createWebhookUpdates(database: Pick<Database, 'listen'>): WebhookUpdates {
  const pubSub = createPubSub<{ webhookUpdated: [userId: string, payload: string] }>();
  let listening: Promise<() => Promise<void>> | null = null;
  return {
    async subscribe(userId) {
      listening ??= database
        .listen(WEBHOOK_UPDATED_CHANNEL, (payload) => {
          if (isUuid(payload)) pubSub.publish('webhookUpdated', payload, payload);
        })
        .catch((error: unknown) => {
          listening = null;
          throw error;
        });
      await listening;
      return started(pubSub.subscribe('webhookUpdated', userId));
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
 * calls only once the client reads; this one subscribes now, so no change in between is lost.
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
