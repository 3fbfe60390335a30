import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import { toChange, type DeliveryEventHub } from '../../delivery/delivery-events.js';
import {
  enqueueDeliveries,
  failPending,
  latestWithDedupeKey,
  messageIdOf,
  recordSkipped,
  WEBHOOK_DELETED_REASON,
  webhookDisabledReason,
  type NewDelivery,
} from '../../delivery/delivery-queue.js';
import { FAILED, SKIPPED } from '../../delivery/delivery-status.js';
import { buildPingPayload, type BuiltPayload } from '../../delivery/payload-builder.js';
import type { Config } from '../../env.js';
import { DeliveryNotFound, WebhookNotFound } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { acceptsEvent } from '../webhooks/webhook-event-types.js';
import { deliveriesRepository, type DeliveryStatus, type DeliveryView } from './deliveries.repository.js';

export interface DeliveriesDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  config: Pick<Config, 'WEBHOOK_MAX_ATTEMPTS' | 'WEBHOOK_MAX_DELIVERIES'>;
  events: DeliveryEventHub;
}

export interface EnqueueOptions {
  db?: Db;
  /** Sent whatever the endpoint's event filter says (a test ping, a redelivery the user asked for). */
  always?: boolean;
  /** With the key of the user's newest keyed delivery, that delivery is answered instead of a new one. */
  dedupeKey?: string;
  /** A redelivery: the message it sends again (messageIdOf the original). */
  messageId?: string;
}

type WebhookRow = NonNullable<Awaited<ReturnType<ReturnType<typeof deliveriesRepository>['lockWebhook']>>>;


export function deliveriesService(deps: DeliveriesDeps) {
  const { config, clock } = deps;
  const repo = deliveriesRepository(deps.db);

  const newDelivery = (userId: string, webhook: WebhookRow, payload: BuiltPayload, now: Date): NewDelivery => ({
    userId,
    url: webhook.url,
    event: payload.event,
    body: payload.body,
    summary: payload.summary,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    maxDeliveries: config.WEBHOOK_MAX_DELIVERIES,
    now,
  });

  /**
   * Writes the delivery in one transaction with the webhook lookup (the row lock serialises a
   * user's deliveries, its deletion and concurrent keyed callers). Null when there is no webhook
   * or its event filter leaves this event out; recorded as SKIPPED (not sent) while it is disabled.
   */
  async function enqueue(userId: string, payload: BuiltPayload, options: EnqueueOptions = {}): Promise<DeliveryView | null> {
    return (options.db ?? deps.db).transaction(async (tx) => {
      const webhook = await deliveriesRepository(tx).lockWebhook(userId);
      if (!webhook) return null;
      if (!options.always && !acceptsEvent(webhook.events, payload.event)) return null;
      if (options.dedupeKey) {
        const earlier = await latestWithDedupeKey(tx, userId);
        if (earlier?.dedupeKey === options.dedupeKey) {
          return { ...toChange(earlier), attemptLog: await deliveriesRepository(tx).attemptLogUpTo(earlier.id, earlier.attempts) };
        }
      }
      const delivery = { ...newDelivery(userId, webhook, payload, clock.now()), dedupeKey: options.dedupeKey, messageId: options.messageId };
      const row = webhook.isActive
        ? (await enqueueDeliveries(tx, [delivery]))[0]!
        : await recordSkipped(tx, { ...delivery, reason: webhookDisabledReason(webhook.disabledReason) });
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
      const delivery = await enqueue(userId, buildPingPayload(userId, clock.now()), { always: true });
      if (!delivery) throw new WebhookNotFound();
      return { delivery };
    },

    async redeliver(userId: string, id: string): Promise<{ delivery: DeliveryView }> {
      const original = isUuid(id) ? await repo.findForUser(userId, id) : undefined;
      if (!original) throw new DeliveryNotFound(id);
      const payload = { event: original.event, body: original.body, summary: original.payloadSummary };
      const delivery = await enqueue(userId, payload, { always: true, messageId: messageIdOf(original) });
      if (!delivery) throw new WebhookNotFound();
      return { delivery };
    },

    /**
     * Every message that FAILED since `since` (or was SKIPPED, missed while the webhook was
     * disabled) again, once, as a new delivery, oldest first. A message that was delivered since
     * (a redelivery of it) or is on its way (PENDING) is left alone, so calling this twice sends
     * nothing twice. The history keeps at most WEBHOOK_MAX_DELIVERIES, which bounds how many there
     * can be. Nothing while the webhook is disabled.
     */
    async redeliverFailed(userId: string, since: Date): Promise<{ deliveries: DeliveryView[]; count: number }> {
      return deps.db.transaction(async (tx) => {
        const webhook = await deliveriesRepository(tx).lockWebhook(userId);
        if (!webhook) throw new WebhookNotFound();
        // Redelivered while disabled, each would only be recorded as SKIPPED again (and push the originals out of the history).
        if (!webhook.isActive) return { deliveries: [], count: 0 };
        const originals = await deliveriesRepository(tx).unsettledMessagesSince(userId, [FAILED, SKIPPED], since, config.WEBHOOK_MAX_DELIVERIES);
        const deliveries: DeliveryView[] = [];
        for (const original of originals) {
          const payload = { event: original.event, body: original.body, summary: original.payloadSummary };
          const delivery = await enqueue(userId, payload, { db: tx, always: true, messageId: messageIdOf(original) });
          if (delivery) deliveries.push(delivery);
        }
        return { deliveries, count: deliveries.length };
      });
    },

    /** Ends the user's pending deliveries because the webhook is being deleted; call inside that transaction. */
    async cancelPending(tx: Db, userId: string): Promise<void> {
      await failPending(tx, { userId }, WEBHOOK_DELETED_REASON, clock.now());
    },

    /**
     * Ends the user's pending deliveries as SKIPPED because the webhook is being disabled (for
     * `disabledReason`); those being sent finish, those claimed but not sent end SKIPPED in the worker.
     */
    async skipPending(tx: Db, userId: string, disabledReason: string): Promise<void> {
      const now = clock.now();
      await failPending(tx, { userId, unleasedAt: now }, webhookDisabledReason(disabledReason), now, SKIPPED);
    },

    /**
     * Enqueues a payload a module built (the delivery wing never looks inside). Null when the user
     * has no active webhook (a disabled one records the event as SKIPPED) or filters the event out.
     * Errors propagate: the caller decides what a failure means to its client.
     */
    async enqueue(userId: string, payload: BuiltPayload, options: EnqueueOptions = {}): Promise<DeliveryView | null> {
      const delivery = await enqueue(userId, payload, options);
      return delivery?.status === SKIPPED ? null : delivery;
    },

    /**
     * Many payloads inside the caller's transaction (an evaluation pass): locks the users'
     * webhooks in a fixed order (no deadlock between passes), applies each endpoint's event filter,
     * records SKIPPED for disabled ones. Answers one entry per item, in order: the delivery, or null.
     */
    async enqueueMany(tx: Db, items: readonly { userId: string; payload: BuiltPayload }[]): Promise<(DeliveryView | null)[]> {
      if (items.length === 0) return [];
      const webhooks = await deliveriesRepository(tx).lockWebhooks([...new Set(items.map((i) => i.userId))]);
      const now = clock.now();
      const sendable: { index: number; delivery: NewDelivery }[] = [];
      for (const [index, item] of items.entries()) {
        const webhook = webhooks.get(item.userId);
        if (!webhook || !acceptsEvent(webhook.events, item.payload.event)) continue;
        const delivery = newDelivery(item.userId, webhook, item.payload, now);
        if (webhook.isActive) sendable.push({ index, delivery });
        else await recordSkipped(tx, { ...delivery, reason: webhookDisabledReason(webhook.disabledReason) });
      }
      const rows = await enqueueDeliveries(tx, sendable.map((s) => s.delivery));
      const result: (DeliveryView | null)[] = items.map(() => null);
      for (const [i, { index }] of sendable.entries()) result[index] = { ...toChange(rows[i]!), attemptLog: [] };
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
