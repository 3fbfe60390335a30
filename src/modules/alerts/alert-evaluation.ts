import type { QuoteOutcome } from '../quotes/quote-source.js';
import type { AlertRow } from './alerts.repository.js';

export interface AlertEvaluation {
  alert: AlertRow;
  triggered: boolean;
  /** The price ("215.30") or the signal ("BUY") the alert was compared against; null on error. */
  currentValue: string | null;
  details: string;
  error: string | null;
  evaluatedAt: Date;
  /** The time of the quote it was compared against; null on error. */
  quoteAsOf: Date | null;
}

export interface TriggeredAlertsSummary {
  totalAlerts: number;
  triggeredCount: number;
  errorCount: number;
}

export interface TriggeredAlertsReport {
  results: AlertEvaluation[];
  summary: TriggeredAlertsSummary;
  evaluatedAt: Date;
}

/** A reason safe to show the alert's owner. */
export class EvaluationFailed extends Error {
  override name = 'EvaluationFailed';
}

type Outcome = Pick<AlertEvaluation, 'triggered' | 'currentValue' | 'details'>;

function formatPrice(price: number): string {
  return price >= 1 ? price.toFixed(2) : price.toPrecision(4);
}

const money = (n: number) => `$${formatPrice(n)}`;

/** Percent moves are compared after rounding away float noise, so a move of exactly 5% meets a 5% threshold. */
const percentChange = (price: number, baseline: number) =>
  Math.round((Math.abs(price - baseline) * 100 * 1e9) / baseline) / 1e9;

/** Compares one alert with its quote; throws when the alert or the quote cannot be evaluated. */
export function evaluateAlert(alert: AlertRow, outcome: QuoteOutcome | undefined): Outcome {
  if (!outcome) throw new EvaluationFailed(`No quote is available for ${alert.ticker}`);
  if ('error' in outcome) throw new EvaluationFailed(outcome.error);
  const { price, signal } = outcome.quote;
  const current = formatPrice(price);
  switch (alert.alertType) {
    case 'PRICE_THRESHOLD': {
      const target = requireColumn(alert.targetPrice, 'targetPrice');
      const above = alert.direction === 'ABOVE';
      const triggered = above ? price > target : price < target;
      const relation = `${triggered ? 'is' : 'is not'} ${above ? 'above' : 'below'}`;
      return {
        triggered,
        currentValue: current,
        details: `${alert.ticker} current price ${money(price)} ${relation} target ${money(target)}`,
      };
    }
    case 'SIGNAL_CHANGE': {
      const target = requireColumn(alert.targetSignal, 'targetSignal');
      if (signal === null) {
        return {
          triggered: false,
          currentValue: null,
          details: `${alert.ticker} has too little price history for a signal yet (target ${target})`,
        };
      }
      const triggered = signal === target;
      return {
        triggered,
        currentValue: signal,
        details: triggered
          ? `${alert.ticker} signal is ${signal}, the target signal`
          : `${alert.ticker} signal is ${signal}, not the target ${target}`,
      };
    }
    case 'PRICE_CHANGE_PERCENT': {
      const threshold = requireColumn(alert.thresholdPercent, 'thresholdPercent');
      const baseline = requireColumn(alert.baselinePrice, 'baselinePrice');
      const change = percentChange(price, baseline);
      const triggered = change >= threshold;
      const sign = price >= baseline ? '+' : '-';
      return {
        triggered,
        currentValue: current,
        details:
          `${alert.ticker} moved ${sign}${change.toFixed(2)}% from baseline ${money(baseline)} to ${money(price)}` +
          ` (threshold ${threshold.toFixed(2)}%${triggered ? ', reached' : ', not reached'})`,
      };
    }
    default:
      throw new EvaluationFailed(`Alert type ${alert.alertType} cannot be evaluated`);
  }
}

function requireColumn<T>(value: T | null, name: string): T {
  if (value === null) throw new EvaluationFailed(`The alert has no ${name}`);
  return value;
}

export function summarize(results: readonly AlertEvaluation[]): TriggeredAlertsSummary {
  return {
    totalAlerts: results.length,
    triggeredCount: results.filter((r) => r.triggered).length,
    errorCount: results.filter((r) => r.error !== null).length,
  };
}
