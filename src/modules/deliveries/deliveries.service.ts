import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import { toChange, type DeliveryEventHub } from '../../delivery/delivery-events.js';
import { enqueueDelivery } from '../../delivery/delivery-queue.js';
import {
  buildAlertsTriggeredPayload,
  buildPingPayload,
  type AlertEvaluationInput,
  type BuiltPayload,
} from '../../delivery/payload-builder.js';
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

  /** Writes the delivery in one transaction with the webhook lookup; null when there is no active webhook. */
  async function enqueue(userId: string, payload: BuiltPayload, db: Db = deps.db): Promise<DeliveryView | null> {
    return db.transaction(async (tx) => {
      const webhook = await deliveriesRepository(tx).lockActiveWebhook(userId);
      if (!webhook) return null;
      const row = await enqueueDelivery(tx, {
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
        return await enqueue(userId, buildAlertsTriggeredPayload(userId, evaluations, evaluatedAt), db);
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
