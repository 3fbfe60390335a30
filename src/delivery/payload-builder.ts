export const ALERTS_TRIGGERED = 'alerts.triggered';
export const WEBHOOK_PING = 'webhook.ping';

export interface EvaluatedAlert {
  id: string;
  alertType: string;
  ticker: string;
  createdAt: Date;
  targetPrice?: number | null;
  direction?: string | null;
  targetSignal?: string | null;
  thresholdPercent?: number | null;
  baselinePrice?: number | null;
}

export interface AlertEvaluationInput {
  alert: EvaluatedAlert;
  triggered: boolean;
  currentValue: string | null;
  details: string;
  error?: string | null;
  evaluatedAt: Date;
}

export interface BuiltPayload {
  event: string;
  /** The exact bytes every attempt and redelivery sends. */
  body: string;
  summary: string;
}

function alertJson(alert: EvaluatedAlert): Record<string, unknown> {
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
export function payloadSummary(triggered: { alert: { ticker: string; alertType: string } }[]): string {
  const noun = triggered.length === 1 ? 'triggered alert' : 'triggered alerts';
  const list = triggered.map((e) => `${e.alert.ticker} ${e.alert.alertType}`).join(', ');
  return `${triggered.length} ${noun} (${list})`;
}

/** The `alerts.triggered` body: only the evaluations that triggered, in snake_case. */
export function buildAlertsTriggeredPayload(
  userId: string,
  evaluations: AlertEvaluationInput[],
  evaluatedAt: Date,
): BuiltPayload {
  const triggered = evaluations.filter((e) => e.triggered);
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

/** The `webhook.ping` body sent by sendTestWebhook. */
export function buildPingPayload(userId: string, sentAt: Date): BuiltPayload {
  const body = JSON.stringify({ event: WEBHOOK_PING, user_id: userId, sent_at: sentAt.toISOString() });
  return { event: WEBHOOK_PING, body, summary: 'Test ping' };
}
