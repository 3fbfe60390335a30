import type { AlertRow } from './alerts.repository.js';

const ALERT_STATES = ['ARMED', 'TRIGGERED', 'SPENT', 'EXPIRED'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export const ALERT_NOTIFY = ['ONCE', 'EVERY_CROSSING'] as const;
export type AlertNotify = (typeof ALERT_NOTIFY)[number];

/** The columns the state machine reads and writes. */
export type AlertStateFields = Pick<
  AlertRow,
  'state' | 'notify' | 'cooldownSeconds' | 'expiresAt' | 'notifyResolved' | 'lastTriggeredAt' | 'triggerCount' | 'stateChangedAt'
>;

/** What one evaluation did to an alert: its new fields and the notification it owes, if any. */
export interface Step {
  next: AlertStateFields;
  notice: 'triggered' | 'resolved' | null;
}

const isLive = (state: string) => state === 'ARMED' || state === 'TRIGGERED';

/** The state a client sees: a live alert past expiresAt is EXPIRED even before a price change records it. */
export function effectiveState(alert: AlertStateFields, now: Date): AlertState {
  if (isLive(alert.state) && alert.expiresAt && alert.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return alert.state as AlertState;
}

/**
 * One evaluation of an alert whose condition is now `conditionTrue` (docs/alerts.md):
 * ARMED → TRIGGERED (or SPENT for ONCE) on a crossing, with a notification unless the cooldown
 * since the last one is still running; TRIGGERED → ARMED when the condition is false again, with
 * an `alerts.resolved` notice when asked for and the crossing had notified.
 */
export function step(alert: AlertStateFields, conditionTrue: boolean, now: Date): Step {
  if (!isLive(alert.state)) return { next: alert, notice: null };
  if (effectiveState(alert, now) === 'EXPIRED') {
    return { next: { ...alert, state: 'EXPIRED', stateChangedAt: now }, notice: null };
  }
  if (alert.state === 'ARMED' && conditionTrue) {
    const last = alert.lastTriggeredAt?.getTime();
    const cooling = last !== undefined && alert.cooldownSeconds !== null && now.getTime() - last < alert.cooldownSeconds * 1000;
    if (cooling) return { next: { ...alert, state: 'TRIGGERED', stateChangedAt: now }, notice: null };
    return {
      next: {
        ...alert,
        state: alert.notify === 'ONCE' ? 'SPENT' : 'TRIGGERED',
        lastTriggeredAt: now,
        triggerCount: alert.triggerCount + 1,
        stateChangedAt: now,
      },
      notice: 'triggered',
    };
  }
  if (alert.state === 'TRIGGERED' && !conditionTrue) {
    const notified = alert.lastTriggeredAt !== null && alert.lastTriggeredAt.getTime() === alert.stateChangedAt?.getTime();
    return {
      next: { ...alert, state: 'ARMED', stateChangedAt: now },
      notice: alert.notifyResolved && notified ? 'resolved' : null,
    };
  }
  return { next: alert, notice: null };
}
