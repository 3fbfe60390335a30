import { createHash } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import { AlertLimitExceeded, AlertNotFound, ValidationError, validationErrorFromZod } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { BuiltPayload } from '../../delivery/payload-builder.js';
import type { DeliveryView } from '../deliveries/deliveries.repository.js';
import type { QuoteOutcome, QuoteSource } from '../quotes/quote-source.js';
import { CreateAlertInput, withoutNulls, type CreateAlert } from './alert-input.js';
import {
  EvaluationFailed,
  evaluateAlert,
  summarize,
  type AlertEvaluation,
  type TriggeredAlertsReport,
} from './alert-evaluation.js';
import type { AlertEventHub } from './alert-events.js';
import { buildAlertsTriggeredPayload } from './alert-payloads.js';
import { effectiveState, type AlertState } from './alert-state.js';
import { alertsRepository, type AlertRow } from './alerts.repository.js';
import type { TriggeredNotice } from './evaluation.repository.js';

export type { AlertEvaluation, TriggeredAlertsReport } from './alert-evaluation.js';
export type { AlertRow } from './alerts.repository.js';

const MAX_ALERTS_PER_USER = 10;

export interface AlertsDeps {
  db: Db;
  clock: Clock;
  quoteSource: QuoteSource;
  logger: Logger;
  /**
   * Enqueues a payload (null when there is no active webhook); with a dedupeKey equal to that of
   * the user's newest keyed delivery, answers that delivery instead. Throws when it cannot.
   */
  enqueueDelivery: (userId: string, payload: BuiltPayload, options: { dedupeKey: string }) => Promise<DeliveryView | null>;
  /** The delivery as its owner sees it, or null when it is gone (pruned). */
  findDelivery: (userId: string, id: string) => Promise<DeliveryView | null>;
  events: AlertEventHub;
}

/** One crossing as the alertTriggered subscription shows it. */
export interface AlertTriggeredView {
  alert: AlertRow;
  currentValue: string;
  details: string;
  evaluatedAt: Date;
  delivery: DeliveryView | null;
}

export type CheckReport = TriggeredAlertsReport & { delivery: DeliveryView | null; deliveryError: string | null };

/** The same triggered alerts on the same quotes give the same key, so triggeredAlerts never sends a state twice. */
function triggeredStateKey(results: readonly AlertEvaluation[]): string {
  const state = results
    .filter((r) => r.triggered)
    .map((r) => `${r.alert.id}@${r.quoteAsOf?.toISOString() ?? ''}`)
    .sort();
  return createHash('sha256').update(state.join('\n')).digest('hex');
}

export function alertsService(deps: AlertsDeps) {
  const repo = alertsRepository(deps.db);

  async function readQuotes(tickers: string[], logger = deps.logger): Promise<Map<string, QuoteOutcome>> {
    try {
      return await deps.quoteSource.getQuotes(tickers);
    } catch (error) {
      logger.error('quote source failed', { tickers, error });
      return new Map(tickers.map((t) => [t, { error: 'The quote source is unavailable' }]));
    }
  }

  /** Checks the ticker against the quote source and returns the price a new alert starts from. */
  async function currentPrice(ticker: string): Promise<number> {
    const outcome = (await readQuotes([ticker])).get(ticker);
    const path = ['input', 'ticker'];
    if (!outcome) throw new ValidationError([{ path, message: `Unknown ticker ${ticker}: the quote source has no quote for it` }]);
    if ('error' in outcome) throw new ValidationError([{ path, message: `${ticker} cannot be checked now: ${outcome.error}` }]);
    return outcome.quote.price;
  }

  function toRow(userId: string, input: CreateAlert, price: number): Omit<AlertRow, 'id'> {
    return {
      userId,
      alertType: input.alertType,
      ticker: input.ticker,
      targetPrice: input.alertType === 'PRICE_THRESHOLD' ? input.targetPrice : null,
      direction: input.alertType === 'PRICE_THRESHOLD' ? input.direction : null,
      targetSignal: input.alertType === 'SIGNAL_CHANGE' ? input.targetSignal : null,
      thresholdPercent: input.alertType === 'PRICE_CHANGE_PERCENT' ? input.thresholdPercent : null,
      baselinePrice: input.alertType === 'PRICE_CHANGE_PERCENT' ? price : null,
      createdAt: deps.clock.now(),
      state: 'ARMED',
      notify: input.notify ?? 'EVERY_CROSSING',
      cooldownSeconds: input.cooldownSeconds ?? null,
      expiresAt: input.expiresAt ?? null,
      notifyResolved: input.notifyResolved ?? false,
      lastTriggeredAt: null,
      triggerCount: 0,
      stateChangedAt: null,
    };
  }

  return {
    maxAlerts: MAX_ALERTS_PER_USER,

    async list(userId: string) {
      const alerts = await repo.listByUser(userId);
      return { alerts, count: alerts.length, maxAlerts: MAX_ALERTS_PER_USER };
    },

    async create(userId: string, input: Record<string, unknown>): Promise<{ alert: AlertRow }> {
      const parsed = CreateAlertInput.safeParse(withoutNulls(input));
      if (!parsed.success) {
        throw validationErrorFromZod(parsed.error.issues, ['input']);
      }
      if (parsed.data.expiresAt && parsed.data.expiresAt.getTime() <= deps.clock.now().getTime()) {
        throw new ValidationError([{ path: ['input', 'expiresAt'], message: 'expiresAt must be in the future' }]);
      }
      // Quote first, outside the transaction: the user's lock is never held across a network call.
      const price = await currentPrice(parsed.data.ticker);
      const alert = await deps.db.transaction(async (tx) => {
        const locked = alertsRepository(tx);
        await locked.lockUser(userId);
        if ((await locked.countByUser(userId)) >= MAX_ALERTS_PER_USER) throw new AlertLimitExceeded(MAX_ALERTS_PER_USER);
        return locked.insert(toRow(userId, parsed.data, price));
      });
      return { alert };
    },

    async delete(userId: string, id: string): Promise<{ id: string; message: string }> {
      if (!isUuid(id) || !(await repo.deleteForUser(id, userId))) throw new AlertNotFound(id);
      return { id, message: 'Alert deleted successfully' };
    },

    /** Evaluates every alert of the user against one batched quote read; one failure never fails the rest. */
    async evaluate(userId: string, logger = deps.logger): Promise<TriggeredAlertsReport> {
      const alerts = await repo.listByUser(userId);
      const evaluatedAt = deps.clock.now();
      const quotes = await readQuotes([...new Set(alerts.map((a) => a.ticker))], logger);
      const results = alerts.map((alert): AlertEvaluation => {
        try {
          const outcome = quotes.get(alert.ticker);
          const quoteAsOf = outcome && 'quote' in outcome ? outcome.quote.asOf : null;
          return { alert, ...evaluateAlert(alert, outcome), error: null, evaluatedAt, quoteAsOf };
        } catch (error) {
          if (!(error instanceof EvaluationFailed)) logger.error('alert evaluation failed', { alertId: alert.id, error });
          const message = error instanceof EvaluationFailed ? error.message : 'The alert could not be evaluated';
          return { alert, triggered: false, currentValue: null, details: message, error: message, evaluatedAt, quoteAsOf: null };
        }
      });
      return { results, summary: summarize(results), evaluatedAt };
    },

    /**
     * triggeredAlerts: evaluates now and, when something triggered, enqueues one delivery (never
     * waits for it). The same triggered alerts on the same quote times answer the delivery made
     * for them before, so repeating the query (a GET, a retry) never sends a state twice.
     */
    async check(userId: string, request: { requestId: string; logger: Logger }): Promise<CheckReport> {
      const report = await this.evaluate(userId, request.logger);
      if (report.summary.triggeredCount === 0) return { ...report, delivery: null, deliveryError: null };
      const payload = buildAlertsTriggeredPayload(userId, report.results, report.evaluatedAt);
      try {
        const delivery = await deps.enqueueDelivery(userId, payload, { dedupeKey: triggeredStateKey(report.results) });
        return { ...report, delivery, deliveryError: null };
      } catch (error) {
        request.logger.error('could not enqueue the alerts.triggered delivery', { userId, error });
        const deliveryError = `The delivery could not be created because of an internal error; try again (request id ${request.requestId})`;
        return { ...report, delivery: null, deliveryError };
      }
    },

    /** The state a client sees (EXPIRED once expiresAt has passed, even before the next evaluation). */
    stateOf(alert: AlertRow): AlertState {
      return effectiveState(alert, deps.clock.now());
    },

    /** The user's crossings as they are found by any process's evaluator. */
    async subscribe(userId: string): Promise<AsyncIterable<AlertTriggeredView>> {
      const notices = await deps.events.subscribe(userId);
      const view = async (notice: TriggeredNotice): Promise<AlertTriggeredView | null> => {
        const alert = await repo.findForUser(notice.alertId, userId);
        if (!alert) return null; // deleted since
        const delivery = notice.deliveryId ? await deps.findDelivery(userId, notice.deliveryId) : null;
        const { currentValue, details } = notice;
        return { alert, currentValue, details, evaluatedAt: new Date(notice.evaluatedAt), delivery };
      };
      const iterator: AsyncIterableIterator<AlertTriggeredView> = {
        async next() {
          for (;;) {
            const next = await notices.next();
            if (next.done) return { done: true, value: undefined };
            const value = await view(next.value);
            if (value) return { done: false, value };
          }
        },
        async return() {
          await notices.return?.();
          return { done: true, value: undefined };
        },
        [Symbol.asyncIterator]: () => iterator,
      };
      return iterator;
    },
  };
}

export type AlertsService = ReturnType<typeof alertsService>;
