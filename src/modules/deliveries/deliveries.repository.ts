import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { deliveryAttempts, webhookDeliveries, webhooks } from '../../db/tables.js';
import { toChange, type DeliveryChange, type DeliveryRow } from '../../delivery/delivery-events.js';

export type AttemptRow = typeof deliveryAttempts.$inferSelect;

/** A delivery as clients see it: no body, no lease, with its attempt log. */
export type DeliveryView = DeliveryChange & { attemptLog: AttemptRow[] };

import { DELIVERED, PENDING, type DeliveryStatus } from '../../delivery/delivery-status.js';
export { DELIVERY_STATUSES, type DeliveryStatus } from '../../delivery/delivery-status.js';

export function deliveriesRepository(db: Db) {
  async function attemptsOf(ids: string[]): Promise<Map<string, AttemptRow[]>> {
    const byDelivery = new Map<string, AttemptRow[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byDelivery;
    const rows = await db
      .select()
      .from(deliveryAttempts)
      .where(inArray(deliveryAttempts.deliveryId, ids))
      .orderBy(asc(deliveryAttempts.deliveryId), asc(deliveryAttempts.number));
    for (const row of rows) byDelivery.get(row.deliveryId)!.push(row);
    return byDelivery;
  }

  return {
    /**
     * The user's newest `limit` deliveries, newest first (seq orders deliveries created within one
     * millisecond), optionally only those among them with `status`. Pending rows older than that
     * are kept until sent but are not part of the history.
     */
    async listByUser(userId: string, limit: number, status?: DeliveryStatus | null): Promise<DeliveryView[]> {
      const newest = db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(eq(webhookDeliveries.userId, userId))
        .orderBy(desc(webhookDeliveries.seq))
        .limit(limit);
      const rows = await db
        .select()
        .from(webhookDeliveries)
        .where(and(inArray(webhookDeliveries.id, newest), status ? eq(webhookDeliveries.status, status) : undefined))
        .orderBy(desc(webhookDeliveries.seq));
      const attempts = await attemptsOf(rows.map((r) => r.id));
      return rows.map((row) => ({ ...toChange(row), attemptLog: attempts.get(row.id)! }));
    },

    async findForUser(userId: string, id: string): Promise<DeliveryRow | undefined> {
      const [row] = await db
        .select()
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.userId, userId)));
      return row;
    },

    /** One delivery as clients see it, with its attempt log. */
    async viewForUser(userId: string, id: string): Promise<DeliveryView | undefined> {
      const row = await this.findForUser(userId, id);
      if (!row) return undefined;
      return { ...toChange(row), attemptLog: (await attemptsOf([row.id])).get(row.id)! };
    },

    /** The attempt log as of a change: attempts up to its count, even if later ones are already written. */
    async attemptLogUpTo(deliveryId: string, attempts: number): Promise<AttemptRow[]> {
      return db
        .select()
        .from(deliveryAttempts)
        .where(and(eq(deliveryAttempts.deliveryId, deliveryId), lte(deliveryAttempts.number, attempts)))
        .orderBy(asc(deliveryAttempts.number));
    },

    /** Locks the user's webhook row, serialising deliveries of one user with each other and with its deletion. */
    async lockWebhook(userId: string) {
      const [row] = await db.select().from(webhooks).where(eq(webhooks.userId, userId)).for('update');
      return row;
    },

    /**
     * The messages (a delivery and its redeliveries share one: messageIdOf) with a delivery in one
     * of `statuses` since `since` and none DELIVERED or PENDING (received, or on its way): the
     * earliest such delivery of each, oldest first.
     */
    async unsettledMessagesSince(userId: string, statuses: DeliveryStatus[], since: Date, limit: number): Promise<DeliveryRow[]> {
      const message = sql`coalesce(${webhookDeliveries.messageId}, ${webhookDeliveries.id})`;
      const rows = await db
        .selectDistinctOn([message])
        .from(webhookDeliveries)
        .where(
          and(
            eq(webhookDeliveries.userId, userId),
            inArray(webhookDeliveries.status, statuses),
            gte(webhookDeliveries.createdAt, since),
            sql`not exists (select 1 from webhook_deliveries settled where settled.user_id = ${userId}
              and coalesce(settled.message_id, settled.id) = ${message} and settled.status in (${DELIVERED}, ${PENDING}))`,
          ),
        )
        .orderBy(message, asc(webhookDeliveries.seq));
      return rows.sort((a, b) => a.seq - b.seq).slice(0, limit);
    },

    /** lockWebhook for many users, locked in user id order so two callers never deadlock. */
    async lockWebhooks(userIds: string[]) {
      const rows = await db
        .select()
        .from(webhooks)
        .where(inArray(webhooks.userId, userIds))
        .orderBy(asc(webhooks.userId))
        .for('update');
      return new Map(rows.map((row) => [row.userId, row]));
    },
  };
}
