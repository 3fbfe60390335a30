import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { users } from '../../db/tables.js';

type UserRow = typeof users.$inferSelect;
export type User = Omit<UserRow, 'apiKeyHash'>;

const publicColumns = { id: users.id, name: users.name, email: users.email, createdAt: users.createdAt };

export function usersRepository(db: Db) {
  return {
    async insert(values: { name: string; email: string; createdAt: Date; apiKeyHash?: string }): Promise<User> {
      const [row] = await db.insert(users).values(values).returning(publicColumns);
      return row!;
    },
    async findById(id: string): Promise<User | undefined> {
      const [row] = await db.select(publicColumns).from(users).where(eq(users.id, id));
      return row;
    },
  };
}
