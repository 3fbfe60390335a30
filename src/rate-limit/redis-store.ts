import { randomUUID } from 'node:crypto';
import { Redis, type Result } from 'ioredis';
import type { Logger } from '../logger.js';
import { createMemoryStore, type RateLimitStore } from './rate-limit-store.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    alertwireRateLimitHit(
      key: string,
      now: number,
      windowMs: number,
      max: number,
      member: string,
    ): Result<[number, number, number], Context>;
  }
}

// One sorted set per key (score = call time). Pruning, counting and recording run as one script,
// so Redis serialises concurrent calls from every instance: none can read a count another is
// about to change.
const HIT_SCRIPT = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
local allowed = 0
if count < max then
  redis.call('ZADD', key, now, ARGV[4])
  redis.call('PEXPIRE', key, window)
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local freesAt = now + window
if oldest[2] then freesAt = tonumber(oldest[2]) + window end
return { allowed, count, freesAt }
`;

/** Shown by CLIENT LIST, so operators (and tests) can count this store's connections. */
export const REDIS_CONNECTION_NAME = 'alertwire-rate-limit';

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
}

/**
 * The shared store for several instances. While Redis is unreachable each instance falls back
 * to its own memory (the API stays up; budgets become per instance) and says so in the log.
 */
export function createRedisStore({ url, keyPrefix, logger }: RedisStoreOptions): RateLimitStore {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2000, connectionName: REDIS_CONNECTION_NAME });
  redis.defineCommand('alertwireRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  const fallback = createMemoryStore();
  let degraded = false;
  redis.on('error', (error: Error) => {
    if (!degraded) logger.warn('rate-limit store: Redis is unreachable', { error: error.message });
    degraded = true;
  });
  redis.on('ready', () => {
    if (degraded) logger.info('rate-limit store: Redis is reachable again');
    degraded = false;
  });

  return {
    async hit(key, budget, now) {
      // No waiting on reconnection attempts while Redis is known to be down.
      if (degraded) return fallback.hit(key, budget, now);
      try {
        const [allowed, count, freesAt] = await redis.alertwireRateLimitHit(
          keyPrefix + key,
          now,
          budget.windowMs,
          budget.max,
          `${now}:${randomUUID()}`,
        );
        return { allowed: allowed === 1, count, freesAt };
      } catch (error) {
        logger.error('rate-limit store: Redis call failed; using this instance’s memory', {
          error: error instanceof Error ? error.message : String(error),
        });
        return fallback.hit(key, budget, now);
      }
    },
    async close() {
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
      await fallback.close();
    },
  };
}
