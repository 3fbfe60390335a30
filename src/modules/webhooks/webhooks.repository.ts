import { eq, getTableColumns, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { webhooks } from '../../db/tables.js';

export type WebhookRow = typeof webhooks.$inferSelect;

export function webhooksRepository(db: Db) {
  return {
    async findByUser(userId: string): Promise<WebhookRow | undefined> {
      const [row] = await db.select().from(webhooks).where(eq(webhooks.userId, userId));
      return row;
    },
    /** Creates or replaces in one statement; `created` is false when a row existed (xmax ≠ 0). */
    async upsert(values: {
      userId: string;
      url: string;
      secretCiphertext: string | null;
      secretKeyId: string | null;
      now: Date;
    }): Promise<{ row: WebhookRow; created: boolean }> {
      const { now, ...rest } = values;
      const [result] = await db
        .insert(webhooks)
        .values({ ...rest, isActive: true, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: webhooks.userId,
          set: {
            url: rest.url,
            secretCiphertext: rest.secretCiphertext,
            secretKeyId: rest.secretKeyId,
            isActive: true,
            updatedAt: now,
          },
        })
        .returning({ ...getTableColumns(webhooks), created: sql<boolean>`(xmax = 0)` });
      const { created, ...row } = result!;
      return { row, created };
    },
    async deleteByUser(userId: string): Promise<boolean> {
      const rows = await db.delete(webhooks).where(eq(webhooks.userId, userId)).returning({ userId: webhooks.userId });
      return rows.length > 0;
    },
  };
}
