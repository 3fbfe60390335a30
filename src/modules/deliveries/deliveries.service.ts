import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import { toChange, type DeliveryEventHub } from '../../delivery/delivery-events.js';
import { enqueueDelivery, failPending, recordSkipped, SKIPPED, WEBHOOK_DELETED_REASON } from '../../delivery/delivery-queue.js';
import {
  buildAlertsTriggeredPayload,
  buildPingPayload,
  type AlertEvaluationInput,
  type BuiltPayload,
} from '../../delivery/payload-builder.js';
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
  /** Sent whatever the endpoint's event filter says (a test ping, a redelivery the user asked for). */
  always?: boolean;
}

export function deliveriesService(deps: DeliveriesDeps) {
  const { config, clock } = deps;
  const repo = deliveriesRepository(deps.db);

  /**
   * Writes the delivery in one transaction with the webhook lookup. Null when there is no webhook
   * or its event filter leaves this event out; recorded as SKIPPED (not sent) while it is disabled.
   */
  async function enqueue(userId: string, payload: BuiltPayload, db: Db = deps.db, options: EnqueueOptions = {}): Promise<DeliveryView | null> {
    return db.transaction(async (tx) => {
      const webhook = await deliveriesRepository(tx).lockWebhook(userId);
      if (!webhook) return null;
      if (!options.always && !acceptsEvent(webhook.events, payload.event)) return null;
      const delivery = {
        userId,
        url: webhook.url,
        event: payload.event,
        body: payload.body,
        summary: payload.summary,
        maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
        maxDeliveries: config.WEBHOOK_MAX_DELIVERIES,
        now: clock.now(),
      };
      const row = webhook.isActive
        ? await enqueueDelivery(tx, delivery)
        : await recordSkipped(tx, { ...delivery, reason: `Not sent: the webhook is disabled (${webhook.disabledReason ?? 'no reason given'}); enableWebhook re-activates it` });
      return { ...toChange(row), attemptLog: [] };
    });
  }

  return {
    async history(userId: string, status?: DeliveryStatus | null) {
      const deliveries = await repo.listByUser(userId, config.WEBHOOK_MAX_DELIVERIES, status);
      return { userId, deliveries, count: deliveries.length, maxRecords: config.WEBHOOK_MAX_DELIVERIES };
    },

    async sendTest(userId: string): Promise<{ delivery: DeliveryView }> {
      const delivery = await enqueue(userId, buildPingPayload(userId, clock.now()), deps.db, { always: true });
      if (!delivery) throw new WebhookNotFound();
      return { delivery };
    },

    async redeliver(userId: string, id: string): Promise<{ delivery: DeliveryView }> {
      const original = isUuid(id) ? await repo.findForUser(userId, id) : undefined;
      if (!original) throw new DeliveryNotFound(id);
      const delivery = await enqueue(
        userId,
        { event: original.event, body: original.body, summary: original.payloadSummary },
        deps.db,
        { always: true },
      );
      if (!delivery) throw new WebhookNotFound();
      return { delivery };
    },

    /**
     * Every FAILED delivery created since `since` (and every SKIPPED one, missed while the webhook
     * was disabled) again, as new deliveries, oldest first. The history keeps at most
     * WEBHOOK_MAX_DELIVERIES, which bounds how many there can be. Nothing while the webhook is disabled.
     */
    async redeliverFailed(userId: string, since: Date): Promise<{ deliveries: DeliveryView[]; count: number }> {
      return deps.db.transaction(async (tx) => {
        const webhook = await deliveriesRepository(tx).lockWebhook(userId);
        if (!webhook) throw new WebhookNotFound();
        // Redelivered while disabled, each would only be recorded as SKIPPED again (and push the originals out of the history).
        if (!webhook.isActive) return { deliveries: [], count: 0 };
        const originals = await deliveriesRepository(tx).listSince(userId, ['FAILED', SKIPPED], since, config.WEBHOOK_MAX_DELIVERIES);
        const deliveries: DeliveryView[] = [];
        for (const original of originals) {
          const payload = { event: original.event, body: original.body, summary: original.payloadSummary };
          const delivery = await enqueue(userId, payload, tx, { always: true });
          if (delivery) deliveries.push(delivery);
        }
        return { deliveries, count: deliveries.length };
      });
    },

    /** Ends the user's pending deliveries because the webhook is being deleted; call inside that transaction. */
    async cancelPending(tx: Db, userId: string): Promise<void> {
      await failPending(tx, { userId }, WEBHOOK_DELETED_REASON, clock.now());
    },

    /** Ends the user's pending deliveries as SKIPPED because the webhook is being disabled; those being sent finish. */
    async skipPending(tx: Db, userId: string, reason: string): Promise<void> {
      const now = clock.now();
      await failPending(tx, { userId, unleasedAt: now }, reason, now, SKIPPED);
    },

    /**
     * For triggeredAlerts: one `alerts.triggered` delivery of the triggered evaluations, or null
     * when none triggered or there is no active webhook. Never throws for delivery reasons; pass
     * the caller's transaction as `db` to write it there (a savepoint keeps a failure local).
     */
    async enqueueAlertsTriggered(
      userId: string,
      evaluations: AlertEvaluationInput[],
      evaluatedAt: Date,
      db?: Db,
    ): Promise<DeliveryView | null> {
      if (!evaluations.some((e) => e.triggered)) return null;
      try {
        const delivery = await enqueue(userId, buildAlertsTriggeredPayload(userId, evaluations, evaluatedAt), db);
        // The contract's `delivery` is null without an active webhook; the SKIPPED row is in the history.
        return delivery?.status === SKIPPED ? null : delivery;
      } catch (error) {
        deps.logger.error('could not enqueue the alerts.triggered delivery', { userId, error });
        return null;
      }
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
