import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { BuiltPayload } from '../../delivery/payload-builder.js';
import type { Logger } from '../../logger.js';
import type { DeliveryView } from '../deliveries/deliveries.repository.js';
import { quotesRepository } from '../quotes/quotes.repository.js';
import { SIGNAL_HISTORY_LENGTH, signalFromHistory, type Signal } from '../quotes/signal.js';
import { EvaluationFailed, evaluateAlert } from './alert-evaluation.js';
import { buildAlertsResolvedPayload, buildAlertsTriggeredPayload, type PayloadEntry } from './alert-payloads.js';
import { step } from './alert-state.js';
import type { AlertRow } from './alerts.repository.js';
import { evaluationRepository, type QuoteChange, type StateUpdate, type TriggeredNotice } from './evaluation.repository.js';

/** Enqueues many deliveries inside the pass's transaction; one entry per item, null without an active webhook. */
export type EnqueueMany = (tx: Db, items: { userId: string; payload: BuiltPayload }[]) => Promise<(DeliveryView | null)[]>;

export interface PassDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  enqueueMany: EnqueueMany;
  /** Most tickers one pass claims. */
  batchSize: number;
}

export interface PassResult {
  changes: number;
  evaluations: number;
  triggered: number;
  resolved: number;
  deliveries: number;
}

interface Notice {
  alert: AlertRow;
  kind: 'triggered' | 'resolved';
  entry: PayloadEntry;
}

/**
 * One evaluation pass, in one transaction: claims price changes, runs each live alert on their
 * tickers through every change in order, writes the new states with a compare-and-set, enqueues
 * one `alerts.triggered` (and one `alerts.resolved`) delivery per user, and deletes the changes.
 * A crash anywhere rolls all of it back and the changes are claimed again.
 */
export async function runEvaluationPass(deps: PassDeps): Promise<PassResult> {
  return deps.db.transaction(async (tx) => {
    const repo = evaluationRepository(tx);
    const changes = await repo.claimChanges(deps.batchSize);
    const result: PassResult = { changes: changes.length, evaluations: 0, triggered: 0, resolved: 0, deliveries: 0 };
    if (changes.length === 0) return result;
    const byTicker = groupBy(changes, (c) => c.ticker);
    const now = deps.clock.now();
    const alerts = await repo.liveAlertsOn(changes, now);
    const signals = await signalsOf(tx, alerts);

    const updates: StateUpdate[] = [];
    const notices: Notice[] = [];
    for (const alert of alerts) {
      let fields: AlertRow = alert;
      for (const change of byTicker.get(alert.ticker) ?? []) {
        const outcome = evaluate(alert, change, signals.get(alert.ticker) ?? null, deps.logger);
        result.evaluations++;
        if (!outcome) continue;
        const { next, notice } = step(fields, outcome.triggered, now);
        // step answers the very object it was given when nothing changed: no write for it.
        if (next !== fields) fields = { ...fields, ...next };
        if (notice) {
          const entry = { alert: fields, triggered: notice === 'triggered', currentValue: outcome.currentValue, details: outcome.details, evaluatedAt: now };
          notices.push({ alert, kind: notice, entry });
        }
      }
      if (fields !== alert) updates.push({ alert, next: fields });
    }

    const written = await repo.compareAndSet(updates);
    const kept = notices.filter((n) => written.has(n.alert.id));
    const items = payloadsPerUser(kept, now);
    const deliveries = await deps.enqueueMany(tx, items.map(({ userId, payload }) => ({ userId, payload })));
    const triggeredDelivery = new Map<string, string | null>();
    for (const [i, item] of items.entries()) {
      if (item.kind === 'triggered') triggeredDelivery.set(item.userId, deliveries[i]?.id ?? null);
    }
    await repo.notifyTriggered(
      kept
        .filter((n) => n.kind === 'triggered')
        .map(
          (n): TriggeredNotice => ({
            userId: n.alert.userId,
            alertId: n.alert.id,
            currentValue: n.entry.currentValue ?? '',
            details: n.entry.details,
            evaluatedAt: now.toISOString(),
            deliveryId: triggeredDelivery.get(n.alert.userId) ?? null,
          }),
        ),
    );
    await repo.deleteChanges(changes.map((c) => c.id));
    result.triggered = kept.filter((n) => n.kind === 'triggered').length;
    result.resolved = kept.length - result.triggered;
    result.deliveries = deliveries.filter(Boolean).length;
    return result;
  });
}

/** The change's price, with the ticker's current signal (the history is not replayed per change). */
function evaluate(alert: AlertRow, change: QuoteChange, signal: Signal | null, logger: Logger) {
  try {
    const outcome = evaluateAlert(alert, { quote: { ticker: change.ticker, price: change.price, asOf: change.asOf, signal } });
    // A signal alert with too little history is not evaluable yet: it neither crosses nor resolves.
    return outcome.currentValue === null ? null : { ...outcome, currentValue: outcome.currentValue };
  } catch (error) {
    if (!(error instanceof EvaluationFailed)) logger.error('alert evaluation failed', { alertId: alert.id, error });
    return null;
  }
}

async function signalsOf(tx: Db, alerts: AlertRow[]): Promise<Map<string, Signal | null>> {
  const tickers = [...new Set(alerts.filter((a) => a.alertType === 'SIGNAL_CHANGE').map((a) => a.ticker))];
  if (tickers.length === 0) return new Map();
  const history = await quotesRepository(tx).findRecentHistory(tickers, SIGNAL_HISTORY_LENGTH);
  return new Map(tickers.map((t) => [t, signalFromHistory(history.get(t) ?? [])]));
}

/** One alerts.triggered and one alerts.resolved payload per user, listing all of the pass's notices. */
function payloadsPerUser(notices: Notice[], evaluatedAt: Date) {
  const groups = groupBy(notices, (n) => `${n.alert.userId} ${n.kind}`);
  return [...groups.values()].map((group) => {
    const { userId } = group[0]!.alert;
    const kind = group[0]!.kind;
    const entries = group.map((n) => n.entry);
    const payload =
      kind === 'triggered'
        ? buildAlertsTriggeredPayload(userId, entries, evaluatedAt)
        : buildAlertsResolvedPayload(userId, entries, evaluatedAt);
    return { userId, kind, payload };
  });
}

// Map.groupBy arrives with Node 21.
function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
