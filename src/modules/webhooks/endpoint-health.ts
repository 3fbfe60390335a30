import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { DeliveryRow } from '../../delivery/delivery-events.js';
import { createGroupCommit } from '../../delivery/group-commit.js';
import type { Logger } from '../../logger.js';
import { notifyWebhookUpdated } from './webhook-updates.js';
import { webhooksRepository, type DisableRule, type HealthChange, type HealthState } from './webhooks.repository.js';

export interface EndpointHealthDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** WEBHOOK_DISABLE_AFTER_FAILURES and WEBHOOK_DISABLE_AFTER. */
  disableAfterFailures: number;
  disableAfterMs: number;
  /** Ends the user's pending deliveries as skipped when the webhook is disabled (the deliveries service). */
  skipPending: (tx: Db, userId: string, disabledReason: string) => Promise<void>;
}

const GONE = 410;

/** A delivery after an attempt, and the URL that attempt went to. */
export interface RecordedAttempt {
  row: DeliveryRow;
  url: string;
}

/** One batch's finished deliveries per user and attempted URL, in the order they finished. */
export function healthChanges(attempts: RecordedAttempt[]): HealthChange[] {
  const byEndpoint = new Map<string, HealthChange>();
  for (const { row, url } of attempts) {
    const key = `${row.userId} ${url}`;
    const change = byEndpoint.get(key) ?? { userId: row.userId, url, reset: false, failures: 0, firstFailureAt: null, gone: false };
    byEndpoint.set(key, change);
    if (row.httpStatus === GONE) change.gone = true;
    if (row.status === 'DELIVERED') Object.assign(change, { reset: true, failures: 0, firstFailureAt: null });
    if (row.status === 'FAILED') {
      change.failures++;
      change.firstFailureAt ??= row.completedAt;
    }
  }
  return [...byEndpoint.values()];
}

/**
 * Auto-disable: a webhook whose deliveries keep failing is switched off, so nobody's receiver is
 * hammered for days and the owner is told (webhookUpdated, disabledReason). A 410 Gone switches
 * it off at once: the receiver says the endpoint no longer exists.
 */
export function endpointHealth(deps: EndpointHealthDeps) {
  const { clock, disableAfterFailures, disableAfterMs } = deps;

  const ruleFor = (now: Date) => ({
    gone: false as const,
    minFailures: disableAfterFailures,
    failingSinceAtMost: new Date(now.getTime() - disableAfterMs),
  });

  const reasonFor = (state: HealthState, now: Date): string | null => {
    if (state.gone) return 'The receiver answered 410 Gone';
    const rule = ruleFor(now);
    if (state.consecutiveFailures < rule.minFailures || !state.failingSince || state.failingSince > rule.failingSinceAtMost) return null;
    return `${state.consecutiveFailures} consecutive deliveries failed since ${state.failingSince.toISOString()}`;
  };

  async function disable(state: HealthState, reason: string, now: Date): Promise<void> {
    const { userId } = state;
    const disabled = await deps.db.transaction(async (tx) => {
      // The state was read before this transaction: the UPDATE checks the rule again.
      const rule: DisableRule = state.gone ? { gone: true, url: state.url } : ruleFor(now);
      const row = await webhooksRepository(tx).disable(userId, reason, now, rule);
      if (!row) return false;
      await deps.skipPending(tx, userId, reason);
      await notifyWebhookUpdated(tx, userId);
      return true;
    });
    if (disabled) deps.logger.warn('webhook disabled', { userId, reason });
  }

  const writer = createGroupCommit(async (attempts: RecordedAttempt[]) => {
    const changes = healthChanges(attempts);
    const states = await deps.db.transaction(async (tx) => {
      const repo = webhooksRepository(tx);
      await repo.lockInOrder([...new Set(changes.map((c) => c.userId))]);
      return repo.recordHealth(changes);
    });
    const now = clock.now();
    for (const state of states) {
      const reason = state.isActive ? reasonFor(state, now) : null;
      if (reason) await disable(state, reason, now);
    }
    return attempts.map(() => undefined);
  });

  return {
    /**
     * For the worker: every recorded attempt and the URL it went to (the user may have changed
     * the webhook's URL since). Only finished deliveries and 410s matter.
     */
    async recorded(row: DeliveryRow, url: string): Promise<void> {
      if (row.status === 'PENDING' && row.httpStatus !== GONE) return;
      try {
        await writer.submit({ row, url });
      } catch (error) {
        deps.logger.error('could not record the webhook health of a delivery', { deliveryId: row.id, error });
      }
    },
  };
}
