import { and, asc, count, eq, or, isNull, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { apiKeys, users } from '../../db/tables.js';
import type { User } from '../users/users.repository.js';

export type ApiKeyRow = Omit<typeof apiKeys.$inferSelect, 'keyHash' | 'userId'>;

const publicColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

/** Who presents a key: the user and which of their keys it is. */
export interface KeyHolder {
  user: User;
  keyId: string;
}

export function apiKeysRepository(db: Db) {
  return {
    listByUser: (userId: string): Promise<ApiKeyRow[]> =>
      db.select(publicColumns).from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id)),

    async insert(values: { userId: string; name: string; keyHash: string; prefix: string; createdAt: Date }): Promise<ApiKeyRow> {
      const [row] = await db.insert(apiKeys).values(values).returning(publicColumns);
      return row!;
    },

    async countByUser(userId: string): Promise<number> {
      const [row] = await db.select({ n: count() }).from(apiKeys).where(eq(apiKeys.userId, userId));
      return row?.n ?? 0;
    },

    /** Serialises key changes of one user (the limit and the last-key rule are checked under it). */
    async lockUser(userId: string): Promise<void> {
      await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
    },

    async deleteForUser(userId: string, id: string): Promise<{ keyHash: string } | undefined> {
      const [row] = await db
        .delete(apiKeys)
        .where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId)))
        .returning({ keyHash: apiKeys.keyHash });
      return row;
    },

    async findHolder(keyHash: string): Promise<KeyHolder | undefined> {
      const [row] = await db
        .select({
          keyId: apiKeys.id,
          user: { id: users.id, name: users.name, email: users.email, createdAt: users.createdAt },
        })
        .from(apiKeys)
        .innerJoin(users, eq(users.id, apiKeys.userId))
        .where(eq(apiKeys.keyHash, keyHash));
      return row;
    },

    async touch(keyId: string, at: Date): Promise<void> {
      await db
        .update(apiKeys)
        .set({ lastUsedAt: at })
        .where(and(eq(apiKeys.id, keyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, at))));
    },
  };
}
