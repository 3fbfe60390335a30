import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import { toChange, type DeliveryEventHub } from '../../delivery/delivery-events.js';
import { enqueueDeliveries, enqueueDelivery, latestWithDedupeKey } from '../../delivery/delivery-queue.js';
import { buildPingPayload, type BuiltPayload } from '../../delivery/payload-builder.js';
import type { Config } from '../../env.js';
import { DeliveryNotFound, WebhookNotFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { deliveriesRepository, type DeliveryStatus, type DeliveryView } from './deliveries.repository.js';

export interface DeliveriesDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'WEBHOOK_MAX_ATTEMPTS' | 'WEBHOOK_MAX_DELIVERIES'>;
  events: DeliveryEventHub;
}


export function deliveriesService(deps: DeliveriesDeps) {
  const { config, clock } = deps;
  const repo = deliveriesRepository(deps.db);

  /**
   * Writes the delivery in one transaction with the webhook lookup; null when there is no active
   * webhook. With a dedupeKey equal to the key of the user's newest keyed delivery, that delivery
   * is returned instead of a new one (the webhook lock serialises concurrent callers).
   */
  async function enqueue(
    userId: string,
    payload: BuiltPayload,
    db: Db = deps.db,
    dedupeKey?: string,
  ): Promise<DeliveryView | null> {
    return db.transaction(async (tx) => {
      const webhook = await deliveriesRepository(tx).lockActiveWebhook(userId);
      if (!webhook) return null;
      if (dedupeKey) {
        const earlier = await latestWithDedupeKey(tx, userId);
        if (earlier?.dedupeKey === dedupeKey) {
          return { ...toChange(earlier), attemptLog: await deliveriesRepository(tx).attemptLogUpTo(earlier.id, earlier.attempts) };
        }
      }
      const row = await enqueueDelivery(tx, {
        dedupeKey,
        userId,
        url: webhook.url,
        event: payload.event,
        body: payload.body,
        summary: payload.summary,
        maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        maxDeliveries: config.WEBHOOK_MAX_DELIVERIES,
        now: clock.now(),
      });
      return { ...toChange(row), attemptLog: [] };
    });
  }

  return {
    async history(userId: string, status?: DeliveryStatus | null) {
      const deliveries = await repo.listByUser(userId, config.WEBHOOK_MAX_DELIVERIES, status);
      return { userId, deliveries, count: deliveries.length, maxRecords: config.WEBHOOK_MAX_DELIVERIES };
    },

    async find(userId: string, id: string): Promise<DeliveryView | null> {
      return isUuid(id) ? ((await repo.viewForUser(userId, id)) ?? null) : null;
    },

    async sendTest(userId: string): Promise<{ delivery: DeliveryView }> {
      const delivery = await enqueue(userId, buildPingPayload(userId, clock.now()));
      if (!delivery) throw new WebhookNotFound();
      return { delivery };
    },

    async redeliver(userId: string, id: string): Promise<{ delivery: DeliveryView }> {
      const original = isUuid(id) ? await repo.findForUser(userId, id) : undefined;
      if (!original) throw new DeliveryNotFound(id);
      const delivery = await enqueue(userId, {
        event: original.event,
        body: original.body,
        summary: original.payloadSummary,
      });
      if (!delivery) throw new WebhookNotFound();
      return { delivery };
    },

    /**
     * Enqueues a payload a module built (the delivery wing never looks inside); null when the user
     * has no active webhook. Errors propagate: the caller decides what a failure means to its client.
     */
    enqueue(userId: string, payload: BuiltPayload, options: { db?: Db; dedupeKey?: string } = {}): Promise<DeliveryView | null> {
      return enqueue(userId, payload, options.db, options.dedupeKey);
    },

    /**
     * Many payloads inside the caller's transaction (an evaluation pass): locks the users'
     * webhooks in a fixed order (no deadlock between passes), skips users without an active one.
     * Answers one entry per item, in order: the delivery, or null.
     */
    async enqueueMany(tx: Db, items: readonly { userId: string; payload: BuiltPayload }[]): Promise<(DeliveryView | null)[]> {
      if (items.length === 0) return [];
      const webhooks = await deliveriesRepository(tx).lockActiveWebhooks([...new Set(items.map((i) => i.userId))]);
      const now = clock.now();
      const sendable = items.flatMap((item, index) => {
        const webhook = webhooks.get(item.userId);
        return webhook ? [{ index, webhook, item }] : [];
      });
      const rows = await enqueueDeliveries(
        tx,
        sendable.map(({ webhook, item }) => ({
          userId: item.userId,
          url: webhook.url,
          event: item.payload.event,
          body: item.payload.body,
          summary: item.payload.summary,
          maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
          maxDeliveries: config.WEBHOOK_MAX_DELIVERIES,
          now,
        })),
      );
      const result: (DeliveryView | null)[] = items.map(() => null);
      sendable.forEach(({ index }, i) => (result[index] = { ...toChange(rows[i]!), attemptLog: [] }));
      return result;
    },

    /** Every change of the user's deliveries from now on, as clients see them. */
    async subscribe(userId: string): Promise<AsyncIterable<DeliveryView>> {
      const changes = await deps.events.subscribe(userId);
      // An explicit iterator, not a generator: return() must unsubscribe even before the first event.
      const iterator: AsyncIterableIterator<DeliveryView> = {
        async next() {
          const next = await changes.next();
          if (next.done) return { done: true, value: undefined };
          const change = next.value;
          return { done: false, value: { ...change, attemptLog: await repo.attemptLogUpTo(change.id, change.attempts) } };
        },
        async return() {
          await changes.return?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]: () => iterator,
      };
      return iterator;
    },
  };
}

export type DeliveriesService = ReturnType<typeof deliveriesService>;
