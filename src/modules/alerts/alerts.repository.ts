import { and, asc, count, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { alerts, users } from '../../db/tables.js';

/** A stored alert; which of the optional columns are set depends on alertType. */
export type AlertRow = typeof alerts.$inferSelect;
export type NewAlertRow = Omit<AlertRow, 'id'>;

export function alertsRepository(db: Db) {
  return {
    listByUser(userId: string): Promise<AlertRow[]> {
      return db.select().from(alerts).where(eq(alerts.userId, userId)).orderBy(asc(alerts.createdAt), asc(alerts.id));
    },
    /** The tickers of alerts that can still notify (distinct, through the ticker index). */
    async watchedTickers(): Promise<string[]> {
      const rows = await db
        .selectDistinct({ ticker: alerts.ticker })
        .from(alerts)
        .where(inArray(alerts.state, ['ARMED', 'TRIGGERED']));
      return rows.map((r) => r.ticker);
    },
    async countByUser(userId: string): Promise<number> {
      const [row] = await db.select({ n: count() }).from(alerts).where(eq(alerts.userId, userId));
      return row!.n;
    },
    /** Serializes concurrent writers of one user's alerts until the transaction ends. */
    async lockUser(userId: string): Promise<void> {
      await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
    },
    async findForUser(id: string, userId: string): Promise<AlertRow | undefined> {
      const [row] = await db.select().from(alerts).where(and(eq(alerts.id, id), eq(alerts.userId, userId)));
      return row;
    },
    async insert(values: NewAlertRow): Promise<AlertRow> {
      const [row] = await db.insert(alerts).values(values).returning();
      return row!;
    },
    async deleteForUser(id: string, userId: string): Promise<boolean> {
      const rows = await db
        .delete(alerts)
        .where(and(eq(alerts.id, id), eq(alerts.userId, userId)))
        .returning({ id: alerts.id });
      return rows.length > 0;
    },
  };
}
