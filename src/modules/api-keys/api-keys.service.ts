import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import { ApiKeyLimitExceeded, ApiKeyNotFound, LastApiKey, validationErrorFromZod } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { generateApiKey, hashApiKey } from '../users/api-key.js';
import type { User } from '../users/users.repository.js';
import type { ApiKeyCache } from './api-key-cache.js';
import { apiKeysRepository, type ApiKeyRow } from './api-keys.repository.js';
import { forgetLegacyKey } from './legacy-api-key.js';

const MAX_API_KEYS = 10;
export const DEFAULT_KEY_NAME = 'default';
// lastUsedAt is a hint, not an audit log: one write per key and process per interval at most.
const LAST_USED_INTERVAL_MS = 60_000;
const PREFIX_LENGTH = 7; // "aw_" and four characters of the random part

const KeyName = z.string().trim().min(1, 'The name must not be empty').max(100, 'The name must be at most 100 characters');

export interface ApiKeysDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  cache: ApiKeyCache;
}

/** A new key: the key itself (shown once) and what is stored of it. */
export function newApiKey(): { key: string; keyHash: string; prefix: string } {
  const key = generateApiKey();
  return { key, keyHash: hashApiKey(key), prefix: key.slice(0, PREFIX_LENGTH) };
}

export function apiKeysService(deps: ApiKeysDeps) {
  const { db, clock, cache } = deps;
  const repo = apiKeysRepository(db);
  const lastTouched = new Map<string, number>();

  function noteUse(keyId: string): void {
    const now = clock.now();
    const last = lastTouched.get(keyId);
    if (last !== undefined && now.getTime() - last < LAST_USED_INTERVAL_MS) return;
    if (lastTouched.size >= 10_000) lastTouched.clear();
    lastTouched.set(keyId, now.getTime());
    repo.touch(keyId, now).catch((error: unknown) => deps.logger.warn('could not record when an API key was last used', { keyId, error }));
  }

  return {
    list: (userId: string): Promise<ApiKeyRow[]> => repo.listByUser(userId),

    async create(userId: string, input: { name: string }): Promise<{ apiKey: string; key: ApiKeyRow }> {
      const parsed = KeyName.safeParse(input.name);
      if (!parsed.success) throw validationErrorFromZod(parsed.error.issues, ['input', 'name']);
      return db.transaction(async (tx) => {
        const keys = apiKeysRepository(tx);
        await keys.lockUser(userId);
        if ((await keys.countByUser(userId)) >= MAX_API_KEYS) throw new ApiKeyLimitExceeded(MAX_API_KEYS);
        const { key, keyHash, prefix } = newApiKey();
        const row = await keys.insert({ userId, name: parsed.data, keyHash, prefix, createdAt: clock.now() });
        return { apiKey: key, key: row };
      });
    },

    async revoke(userId: string, id: string): Promise<{ id: string; message: string }> {
      if (!isUuid(id)) throw new ApiKeyNotFound(id);
      const removed = await db.transaction(async (tx) => {
        const keys = apiKeysRepository(tx);
        await keys.lockUser(userId);
        const deleted = await keys.deleteForUser(userId, id);
        if (!deleted) throw new ApiKeyNotFound(id);
        await forgetLegacyKey(tx, userId, deleted.keyHash);
        // Checked after the delete, inside the lock: throwing rolls it back.
        if ((await keys.countByUser(userId)) === 0) throw new LastApiKey();
        return deleted;
      });
      cache.forget(removed.keyHash);
      return { id, message: 'API key revoked' };
    },

    /** Told of every removed key's hash, or null when removals may have gone unheard (ApiKeyCache.onRemoved). */
    onKeyRemoved: (listener: (keyHash: string | null) => void): (() => void) => cache.onRemoved(listener),

    /** Whether the key with this hash still lets its holder in. */
    isCurrent: async (keyHash: string): Promise<boolean> => (await cache.get(keyHash)) !== undefined,

    /** The user presenting this key, or undefined; served from the per-process cache. */
    async authenticate(apiKey: string): Promise<User | undefined> {
      const holder = await cache.get(hashApiKey(apiKey));
      if (!holder) return undefined;
      noteUse(holder.keyId);
      return holder.user;
    },
  };
}

export type ApiKeysService = ReturnType<typeof apiKeysService>;
