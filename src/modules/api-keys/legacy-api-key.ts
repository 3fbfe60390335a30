import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { apiKeys, users } from '../../db/tables.js';
import { apiKeysRepository, type KeyHolder } from './api-keys.repository.js';
import { DEFAULT_KEY_NAME } from './api-keys.service.js';

// For one release, `users.api_key_hash` is still written by processes of the previous release
// (during a rolling deploy, or after a rollback) and read by them; a later migration clears it.
// Everything about it lives here, to be deleted with that migration.

// Only the hash was ever stored: the prefix is unknown, shown as the product prefix alone.
const LEGACY_PREFIX = 'aw_';

/**
 * The key's holder from api_keys; a hash found only in `users.api_key_hash` (a user registered by
 * an older process) is first moved into api_keys as that user's `default` key, under the lock on
 * the user row that serialises key changes.
 */
export function findHolderAdoptingLegacyKey(db: Db) {
  const repo = apiKeysRepository(db);
  return async (keyHash: string): Promise<KeyHolder | undefined> => {
    const holder = await repo.findHolder(keyHash);
    if (holder) return holder;
    const moved = await db.transaction(async (tx) => {
      const [user] = await tx
        .select({ id: users.id, createdAt: users.createdAt })
        .from(users)
        .where(eq(users.apiKeyHash, keyHash))
        .for('update');
      if (!user) return false;
      await tx
        .insert(apiKeys)
        .values({ userId: user.id, name: DEFAULT_KEY_NAME, keyHash, prefix: LEGACY_PREFIX, createdAt: user.createdAt })
        .onConflictDoNothing({ target: apiKeys.keyHash });
      return true;
    });
    return moved ? repo.findHolder(keyHash) : undefined;
  };
}

/** A revoked key must not come back from `users.api_key_hash` on its next use (nor work on an older process). */
export async function forgetLegacyKey(tx: Db, userId: string, keyHash: string): Promise<void> {
  await tx
    .update(users)
    .set({ apiKeyHash: sql`null` })
    .where(and(eq(users.id, userId), eq(users.apiKeyHash, keyHash)));
}
