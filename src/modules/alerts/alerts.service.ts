import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import { AlertLimitExceeded, AlertNotFound, ValidationError, validationErrorFromZod } from '../../errors.js';
import type { Logger } from '../../logger.js';
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
import { alertsRepository, type AlertRow } from './alerts.repository.js';

export type { AlertEvaluation, TriggeredAlertsReport, TriggeredAlertsSummary } from './alert-evaluation.js';
export type { AlertRow } from './alerts.repository.js';

export const MAX_ALERTS_PER_USER = 10;

export interface AlertsDeps {
  db: Db;
  clock: Clock;
  quoteSource: QuoteSource;
  logger: Logger;
  /** Enqueues the alerts.triggered delivery; null when there is no active webhook. Never throws. */
  deliverTriggered: (userId: string, results: AlertEvaluation[], evaluatedAt: Date) => Promise<DeliveryView | null>;
}

export function alertsService(deps: AlertsDeps) {
  const repo = alertsRepository(deps.db);

  async function readQuotes(tickers: string[]): Promise<Map<string, QuoteOutcome>> {
    try {
      return await deps.quoteSource.getQuotes(tickers);
    } catch (error) {
      deps.logger.error('quote source failed', { tickers, error });
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
        throw validationErrorFromZod(parsed.error.issues.map((i) => ({ ...i, path: ['input', ...i.path] })));
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
    async evaluate(userId: string): Promise<TriggeredAlertsReport> {
      const alerts = await repo.listByUser(userId);
      const evaluatedAt = deps.clock.now();
      const quotes = await readQuotes([...new Set(alerts.map((a) => a.ticker))]);
      const results = alerts.map((alert): AlertEvaluation => {
        try {
          return { alert, ...evaluateAlert(alert, quotes.get(alert.ticker)), error: null, evaluatedAt };
        } catch (error) {
          if (!(error instanceof EvaluationFailed)) deps.logger.error('alert evaluation failed', { alertId: alert.id, error });
          const message = error instanceof EvaluationFailed ? error.message : 'The alert could not be evaluated';
          return { alert, triggered: false, currentValue: null, details: message, error: message, evaluatedAt };
        }
      });
      return { results, summary: summarize(results), evaluatedAt };
    },

    /** triggeredAlerts: evaluates now and, when something triggered, enqueues one delivery (never waits for it). */
    async check(userId: string): Promise<TriggeredAlertsReport & { delivery: DeliveryView | null }> {
      const report = await this.evaluate(userId);
      const delivery =
        report.summary.triggeredCount > 0 ? await deps.deliverTriggered(userId, report.results, report.evaluatedAt) : null;
      return { ...report, delivery };
    },
  };
}

export type AlertsService = ReturnType<typeof alertsService>;
