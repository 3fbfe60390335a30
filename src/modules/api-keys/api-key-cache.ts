import type { Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { KeyHolder } from './api-keys.repository.js';

/** The custom migration's trigger announces every removed key row (revoked, or its user removed) here, with its hash. */
export const API_KEY_REMOVED_CHANNEL = 'alertwire_api_key_removed';

export interface ApiKeyCacheOptions {
  listen: Database['listen'];
  clock: Clock;
  logger: Logger;
  /** The database lookup behind the cache. */
  load: (keyHash: string) => Promise<KeyHolder | undefined>;
  /** A safety net behind the NOTIFY: even a missed one is outlived by at most this long. */
  ttlMs?: number;
  maxEntries?: number;
}

export interface ApiKeyCache {
  get(keyHash: string): Promise<KeyHolder | undefined>;
  /** Drops an entry at once (this process revoked it; the NOTIFY reaches the others). */
  forget(keyHash: string): void;
  /**
   * Tells `listener` of every removed key (revoked, or its user removed) this process hears of:
   * its hash, or null when removals may have gone unheard (the NOTIFY connection was re-established).
   */
  onRemoved(listener: (keyHash: string | null) => void): () => void;
  close(): Promise<void>;
}

/**
 * Key hash → holder, per process, so a request does not look its key up in the database. Only
 * found keys are kept, and only once the removal NOTIFY is being listened to. Each time the
 * subscription is re-established (after a lost connection, during which removals went unheard)
 * the cache starts empty. A connection that is lost and not re-established tells nobody: the TTL
 * bounds how long an entry is trusted then.
 */
export function createApiKeyCache(options: ApiKeyCacheOptions): ApiKeyCache {
  const { clock, ttlMs = 30_000, maxEntries = 10_000 } = options;
  const entries = new Map<string, { holder: KeyHolder; expiresAt: number }>();
  // Bumped by every removal: a lookup that overlapped one does not cache what it read.
  let generation = 0;
  let listening: Promise<(() => Promise<void>) | null> | null = null;
  // Set by the first successful subscribe; entries are cached only from then on.
  let subscribed = false;

  const removalListeners = new Set<(keyHash: string | null) => void>();
  const tell = (keyHash: string | null) => {
    for (const listener of removalListeners) {
      try {
        listener(keyHash);
      } catch (error) {
        options.logger.error('a listener for removed API keys failed', { error });
      }
    }
  };

  const forget = (keyHash: string) => {
    generation++;
    entries.delete(keyHash);
    tell(keyHash);
  };
  // Removals may have gone unheard: every entry goes.
  const forgetAll = () => {
    generation++;
    entries.clear();
    tell(null);
  };

  function listen() {
    const onPayload = (keyHash: string) => (keyHash ? forget(keyHash) : forgetAll());
    const onListen = () => {
      subscribed = true;
      forgetAll();
    };
    listening ??= options.listen(API_KEY_REMOVED_CHANNEL, onPayload, onListen).catch((error: unknown) => {
      options.logger.warn('API key cache disabled until the next request: could not listen for revocations', { error });
      listening = null;
      subscribed = false;
      return null;
    });
    return listening;
  }

  return {
    async get(keyHash) {
      const now = clock.now().getTime();
      const hit = entries.get(keyHash);
      if (hit && hit.expiresAt > now) return hit.holder;
      entries.delete(keyHash);
      const live = (await listen()) !== null && subscribed;
      const before = generation;
      const holder = await options.load(keyHash);
      if (holder && live && before === generation) {
        if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
        entries.set(keyHash, { holder, expiresAt: now + ttlMs });
      }
      return holder;
    },
    forget,
    onRemoved(listener) {
      removalListeners.add(listener);
      // Removals are heard only while the channel is listened to: a process that has served no
      // request yet (a stream is its first) starts listening now.
      void listen();
      return () => removalListeners.delete(listener);
    },
    async close() {
      removalListeners.clear();
      entries.clear();
      const unlisten = await listening;
      listening = null;
      subscribed = false;
      await unlisten?.().catch(() => {});
    },
  };
}
