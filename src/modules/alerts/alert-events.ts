import { createPubSub } from 'graphql-yoga';
import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { ALERT_TRIGGERED_CHANNEL, type TriggeredNotice } from './evaluation.repository.js';

const NoticesSchema = z.array(z.object({
  userId: z.string(),
  alertId: z.string(),
  currentValue: z.string(),
  details: z.string(),
  evaluatedAt: z.string(),
  deliveryId: z.string().nullable(),
}));

export interface AlertEventHub {
  /** One user's crossings from the moment this resolves, published by any process. */
  subscribe(userId: string): Promise<AsyncIterableIterator<TriggeredNotice>>;
  close(): Promise<void>;
}

/** One LISTEN per process, fanned out per user through yoga's pub/sub. */
export function createAlertEventHub(database: Pick<Database, 'listen'>): AlertEventHub {
  const pubSub = createPubSub<{ alertTriggered: [userId: string, notice: TriggeredNotice] }>();
  let listening: Promise<() => Promise<void>> | null = null;

  const onPayload = (payload: string) => {
    let notices: TriggeredNotice[];
    try {
      notices = NoticesSchema.parse(JSON.parse(payload));
    } catch {
      return;
    }
    for (const notice of notices) pubSub.publish('alertTriggered', notice.userId, notice);
  };

  return {
    async subscribe(userId) {
      listening ??= database.listen(ALERT_TRIGGERED_CHANNEL, onPayload).catch((error: unknown) => {
        listening = null; // let the next subscriber try again
        throw error;
      });
      await listening;
      const stream = pubSub.subscribe('alertTriggered', userId);
      // A Repeater registers its listener on the first next(); call it now so nothing published
      // between this answer and the client's first read is lost.
      let first: Promise<IteratorResult<TriggeredNotice>> | null = stream.next();
      const iterator: AsyncIterableIterator<TriggeredNotice> = {
        next() {
          const pending = first ?? stream.next();
          first = null;
          return pending;
        },
        return: () => stream.return(),
        [Symbol.asyncIterator]: () => iterator,
      };
      return iterator;
    },
    async close() {
      const unlisten = await listening?.catch(() => null);
      listening = null;
      await unlisten?.().catch(() => {});
    },
  };
}
