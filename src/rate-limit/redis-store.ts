import { randomUUID } from 'node:crypto';
import { Redis, type Result } from 'ioredis';
import { setClockTimer, systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { RedisBreaker } from './redis-breaker.js';
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

/** Redis answers a local script in well under a millisecond; 100 ms of silence means it stalled. */
const REDIS_COMMAND_TIMEOUT_MS = 100;
const PROBE_EVERY_MS = 250;
const CONNECT_TIMEOUT_MS = 1000;

export interface RedisStoreOptions {
  url: string;
  keyPrefix: string;
  logger: Logger;
  clock?: Clock;
  commandTimeoutMs?: number;
}

/**
 * The shared store for several instances. While Redis is unreachable each instance falls back
 * to its own memory (the API stays up; budgets become per instance) and says so in the log.
 */
export function createRedisStore({
  url,
  keyPrefix,
  logger,
  clock = systemClock,
  commandTimeoutMs = REDIS_COMMAND_TIMEOUT_MS,
}: RedisStoreOptions): RateLimitStore {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: commandTimeoutMs,
    connectionName: REDIS_CONNECTION_NAME,
  });
  redis.defineCommand('alertwireRateLimitHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  const fallback = createMemoryStore();
  const breaker = new RedisBreaker({
    clock,
    probe: () => redis.ping(),
    probeEveryMs: PROBE_EVERY_MS,
    onOpen: (reason) =>
      logger.warn('rate-limit store: Redis is unreachable; budgets are kept in this instance’s memory', { error: reason }),
    onClose: () => logger.info('rate-limit store: Redis is reachable again; budgets are shared again'),
  });
  redis.on('error', (error: Error) => breaker.trip(error.message));
  redis.on('ready', () => breaker.reset());
  // The command timeout counts from submission, so the first calls would time out on the
  // connection handshake: they wait for it (bounded by connectTimeout), later calls never do.
  let connecting: Promise<unknown> | null = new Promise((resolve) => {
    redis.once('ready', resolve);
    redis.once('error', resolve);
    setClockTimer(clock, () => resolve(undefined), CONNECT_TIMEOUT_MS);
  }).finally(() => (connecting = null));

  return {
    async hit(key, budget, now) {
      if (connecting) await connecting;
      // No waiting on a Redis known to be down or stalled.
      if (breaker.isOpen) return fallback.hit(key, budget, now);
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
        breaker.trip(error instanceof Error ? error.message : String(error));
        return fallback.hit(key, budget, now);
      }
    },
    async close() {
      breaker.dispose();
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
      await fallback.close();
    },
  };
}
