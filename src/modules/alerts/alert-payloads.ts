import type { BuiltPayload } from '../../delivery/payload-builder.js';
import type { AlertRow } from './alerts.repository.js';

export const ALERTS_TRIGGERED = 'alerts.triggered';
export const ALERTS_RESOLVED = 'alerts.resolved';

/** The alert columns a payload shows; the evaluation passes whole rows, tests may pass less. */
type PayloadAlert = Pick<AlertRow, 'id' | 'alertType' | 'ticker' | 'createdAt'> &
  Partial<Pick<AlertRow, 'targetPrice' | 'direction' | 'targetSignal' | 'thresholdPercent' | 'baselinePrice'>>;

/** One alert's outcome as a payload lists it. */
export interface PayloadEntry {
  alert: PayloadAlert;
  triggered: boolean;
  currentValue: string | null;
  details: string;
  evaluatedAt: Date;
}

function alertJson(alert: PayloadAlert): Record<string, unknown> {
  const optional = {
    target_price: alert.targetPrice,
    direction: alert.direction,
    target_signal: alert.targetSignal,
    threshold_percent: alert.thresholdPercent,
    baseline_price: alert.baselinePrice,
  };
  return {
    id: alert.id,
    alert_type: alert.alertType,
    ticker: alert.ticker,
    created_at: alert.createdAt.toISOString(),
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== null && value !== undefined)),
  };
}

/** `2 triggered alerts (AAPL PRICE_THRESHOLD, TSLA SIGNAL_CHANGE)` */
function payloadSummary(entries: readonly { alert: { ticker: string; alertType: string } }[], adjective = 'triggered'): string {
  const noun = entries.length === 1 ? `${adjective} alert` : `${adjective} alerts`;
  const list = entries.map((e) => `${e.alert.ticker} ${e.alert.alertType}`).join(', ');
  return `${entries.length} ${noun} (${list})`;
}

/** The `alerts.triggered` body: only the entries that triggered, in snake_case. */
export function buildAlertsTriggeredPayload(userId: string, entries: readonly PayloadEntry[], evaluatedAt: Date): BuiltPayload {
  const triggered = entries.filter((e) => e.triggered);
  const body = JSON.stringify({
    event: ALERTS_TRIGGERED,
    user_id: userId,
    triggered_alerts: triggered.map((e) => ({
      alert: alertJson(e.alert),
      triggered: true,
      current_value: e.currentValue,
      details: e.details,
      evaluated_at: e.evaluatedAt.toISOString(),
    })),
    triggered_count: triggered.length,
    evaluated_at: evaluatedAt.toISOString(),
  });
  return { event: ALERTS_TRIGGERED, body, summary: payloadSummary(triggered) };
}

/** The `alerts.resolved` body: alerts whose condition became false again after they notified. */
export function buildAlertsResolvedPayload(userId: string, entries: readonly PayloadEntry[], evaluatedAt: Date): BuiltPayload {
  const body = JSON.stringify({
    event: ALERTS_RESOLVED,
    user_id: userId,
    resolved_alerts: entries.map((e) => ({
      alert: alertJson(e.alert),
      resolved: true,
      current_value: e.currentValue,
      details: e.details,
      evaluated_at: e.evaluatedAt.toISOString(),
    })),
    resolved_count: entries.length,
    evaluated_at: evaluatedAt.toISOString(),
  });
  return { event: ALERTS_RESOLVED, body, summary: payloadSummary(entries, 'resolved') };
}
