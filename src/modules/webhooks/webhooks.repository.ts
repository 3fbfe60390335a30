import { and, asc, eq, getTableColumns, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { preparedPerDb } from '../../db/prepared.js';
import { queryRows } from '../../db/rows.js';
import { webhooks } from '../../db/tables.js';

export type WebhookRow = typeof webhooks.$inferSelect;

/** What setWebhook writes; an absent field keeps its stored value on replace. */
export interface WebhookValues {
  url: string;
  secret?: { ciphertext: string; keyId: string } | null;
  events?: string[] | null;
}

/** Outcomes of one user's finished deliveries in one batch, for the run of consecutive failures. */
export interface HealthChange {
  userId: string;
  /** The URL these attempts went to: they count only while it is still the webhook's URL. */
  url: string;
  /** A delivery was DELIVERED: the run restarts from the failures after it. */
  reset: boolean;
  failures: number;
  firstFailureAt: Date | null;
  /** The receiver answered 410 Gone. */
  gone: boolean;
}

export interface HealthState {
  userId: string;
  url: string;
  consecutiveFailures: number;
  failingSince: Date | null;
  isActive: boolean;
  gone: boolean;
}

/** What must still hold when the webhook is disabled: the run of failures (read again, not from a stale state), or a 410. */
export type DisableRule = { gone: true; url: string } | { gone: false; minFailures: number; failingSinceAtMost: Date };

const ACTIVE = { isActive: true, disabledAt: null, disabledReason: null, consecutiveFailures: 0, failingSince: null };
const NO_ROTATION = { previousSecretCiphertext: null, previousSecretKeyId: null, previousSecretExpiresAt: null, secretRotatedAt: null };

// The `webhook` field reads this on every request.
const findByUserQuery = preparedPerDb((db) =>
  db.select().from(webhooks).where(eq(webhooks.userId, sql.placeholder('userId'))).prepare('webhookByUser'),
);

export function webhooksRepository(db: Db) {
  return {
    async findByUser(userId: string): Promise<WebhookRow | undefined> {
      const [row] = await findByUserQuery(db).execute({ userId });
      return row;
    },

    /** The row locked until the transaction ends: serialises changes of one user's webhook. */
    async lockByUser(userId: string): Promise<WebhookRow | undefined> {
      const [row] = await db.select().from(webhooks).where(eq(webhooks.userId, userId)).for('update');
      return row;
    },

    /**
     * Creates or replaces in one statement, active again; `created` is false when a row existed
     * (xmax ≠ 0). A new secret (or its removal) ends any rotation's overlap.
     */
    async upsert(userId: string, values: WebhookValues, now: Date): Promise<{ row: WebhookRow; created: boolean }> {
      const secret =
        values.secret === undefined
          ? {}
          : { secretCiphertext: values.secret?.ciphertext ?? null, secretKeyId: values.secret?.keyId ?? null, ...NO_ROTATION };
      const events = values.events === undefined ? {} : { events: values.events };
      const [result] = await db
        .insert(webhooks)
        .values({ userId, url: values.url, ...secret, ...events, ...ACTIVE, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({ target: webhooks.userId, set: { url: values.url, ...secret, ...events, ...ACTIVE, updatedAt: now } })
        .returning({ ...getTableColumns(webhooks), created: sql<boolean>`(xmax = 0)` });
      const { created, ...row } = result!;
      return { row, created };
    },

    async update(userId: string, set: Partial<Omit<WebhookRow, 'userId' | 'createdAt'>>): Promise<WebhookRow | undefined> {
      const [row] = await db.update(webhooks).set(set).where(eq(webhooks.userId, userId)).returning();
      return row;
    },

    enable: (userId: string, now: Date) => webhooksRepository(db).update(userId, { ...ACTIVE, updatedAt: now }),

    /**
     * Disables an active webhook while the rule still holds (setWebhook or enableWebhook may have
     * restarted the run since it was read); undefined when it does not, or the webhook is gone.
     */
    async disable(userId: string, reason: string, now: Date, rule: DisableRule): Promise<WebhookRow | undefined> {
      // A 410 speaks for the URL that answered it: a URL changed since then stays active.
      const stillFailing = rule.gone
        ? eq(webhooks.url, rule.url)
        : and(gte(webhooks.consecutiveFailures, rule.minFailures), lte(webhooks.failingSince, rule.failingSinceAtMost));
      const [row] = await db
        .update(webhooks)
        .set({ isActive: false, disabledAt: now, disabledReason: reason, updatedAt: now })
        .where(and(eq(webhooks.userId, userId), eq(webhooks.isActive, true), stillFailing))
        .returning();
      return row;
    },

    /** Locks these users' webhooks in one fixed order, so two workers writing overlapping batches cannot deadlock. */
    async lockInOrder(userIds: string[]): Promise<void> {
      if (userIds.length === 0) return;
      await db.select({ userId: webhooks.userId }).from(webhooks).where(inArray(webhooks.userId, userIds)).orderBy(asc(webhooks.userId)).for('update');
    },

    async deleteByUser(userId: string): Promise<boolean> {
      const rows = await db.delete(webhooks).where(eq(webhooks.userId, userId)).returning({ userId: webhooks.userId });
      return rows.length > 0;
    },

    /**
     * Moves each user's run of consecutive failures on, in one statement for the batch; rows with
     * nothing to change are not written (a DELIVERED after a success is the common case). Run it
     * in a transaction after lockInOrder: the UPDATE itself takes its row locks in plan order.
     */
    async recordHealth(changes: HealthChange[]): Promise<HealthState[]> {
      if (changes.length === 0) return [];
      const batch = JSON.stringify(
        changes.map((c) => ({
          user_id: c.userId,
          url: c.url,
          reset: c.reset,
          failures: c.failures,
          first_failure_at: c.firstFailureAt?.toISOString() ?? null,
          gone: c.gone,
        })),
      );
      const rows = await queryRows<{
        user_id: string;
        url: string;
        consecutive_failures: number;
        failing_since: string | Date | null;
        is_active: boolean;
        gone: boolean;
      }>(
        db,
        sql`with v as (
              select * from jsonb_to_recordset(${batch}::jsonb)
                as r(user_id uuid, url text, reset boolean, failures int, first_failure_at timestamptz, gone boolean))
            update webhooks as w set
              consecutive_failures = (case when v.reset then 0 else w.consecutive_failures end) + v.failures,
              failing_since = case when v.failures = 0 then (case when v.reset then null else w.failing_since end)
                                   else coalesce(case when v.reset then null else w.failing_since end, v.first_failure_at) end
            from v
            where w.user_id = v.user_id and w.url = v.url and (v.failures > 0 or v.gone or (v.reset and w.consecutive_failures > 0))
            returning w.user_id, w.url, w.consecutive_failures, w.failing_since, w.is_active, v.gone /* recordHealth */`,
      );
      return rows.map((r) => ({
        userId: r.user_id,
        url: r.url,
        consecutiveFailures: r.consecutive_failures,
        failingSince: r.failing_since === null ? null : new Date(r.failing_since),
        isActive: r.is_active,
        gone: r.gone,
      }));
    },
  };
}
