import type { GraphQLResolveInfo } from 'graphql';
import { getGraphQLRateLimiter, type Store } from 'graphql-rate-limit';
import type { Clock } from '../clock.js';
import type { Config } from '../env.js';
import type { Logger } from '../logger.js';
import { loadLater } from '../load-later.js';
import { budgetTable, PUBLIC_FIELDS, type Budget, type BudgetOverrides } from './budgets.js';
import type { RedisStoreOptions } from './redis-store.js';
import { createMemoryStore, type Hit, type RateLimitStore } from './rate-limit-store.js';

export interface RateLimitOptions extends BudgetOverrides {
  /** Prefix of the Redis keys, so several deployments (or test runs) can share one Redis. */
  keyPrefix?: string;
  /** Replaces the Redis command timeout (100 ms), for tests on a machine too busy to meet it. */
  redisCommandTimeoutMs?: number;
}

/** What a charge needs to know about the caller (a subset of the GraphQL context). */
interface CallerContext {
  viewer: { id: string } | null;
  isAdmin: boolean;
  clientAddress: string;
}

/** One root-field call. */
export interface FieldCall {
  args: object;
  context: object;
  info: GraphQLResolveInfo;
}

export interface Charge {
  /** The refusal message when the budget is spent, else undefined. */
  refusal: string | undefined;
  limit: number;
  remaining: number;
  /** Seconds until the oldest counted call leaves the window (and one more call is allowed). */
  resetSeconds: number;
}

export interface RateLimiter {
  /** Spends one call of the field's budget for the caller, and says what is left. */
  charge(call: FieldCall): Promise<Charge>;
  close(): Promise<void>;
}

/** One graphql-rate-limit limiter per app, over the memory store or, with REDIS_URL, Redis. */
export function createRateLimiter(deps: {
  config: Config;
  clock: Clock;
  logger: Logger;
  options?: RateLimitOptions;
}): RateLimiter {
  const { config, clock, logger, options = {} } = deps;
  const budgetFor = budgetTable(config, options);
  const store: RateLimitStore = config.REDIS_URL
    ? loadRedisStore({
        url: config.REDIS_URL,
        keyPrefix: options.keyPrefix ?? 'alertwire:rate-limit:',
        logger,
        clock,
        commandTimeoutMs: options.redisCommandTimeoutMs,
      })
    : createMemoryStore();

  // graphql-rate-limit reads an identity's log, decides, then writes it back: two steps that lose
  // counts under concurrency and copy O(calls in the window) per call. This adapter decides and
  // records inside the read (`hit`, one atomic step; the field identity is the field name) and
  // shows the library, told max 1, one earlier call when the hit was refused and none when it
  // was allowed, so the library reaches the store's verdict in O(1). The library answers with the
  // message only, so the hit (for X-RateLimit-*) is left in `lastHit`: getForIdentity runs
  // synchronously inside limiter(), and the charge that called it takes it right after.
  let lastHit: { hit: Promise<Hit>; budget: Budget; now: number } | undefined;
  const atomicStore: Store = {
    getForIdentity({ contextIdentity, fieldIdentity }) {
      const budget = budgetFor(fieldIdentity);
      const now = clock.now().getTime();
      const hit = store.hit(`${contextIdentity}:${fieldIdentity}`, budget, now);
      lastHit = { hit, budget, now };
      return hit.then(({ allowed }) => (allowed ? NO_EARLIER_CALLS : [Date.now()]));
    },
    setForIdentity() {},
  };
  const refusals = new Map<string, string>();
  const limiter = getGraphQLRateLimiter({
    store: atomicStore,
    identifyContext: ({ caller, fieldName }: { caller: CallerContext; fieldName: string }) => callerIdentity(fieldName, caller),
    // Called for every call, refused or not: the message is built once per field.
    formatError: ({ fieldName, window }) => {
      let message = refusals.get(fieldName);
      if (message === undefined) {
        message = `Too many ${fieldName} calls: the budget is ${budgetFor(fieldName).max} per ${describeWindow(window)}`;
        refusals.set(fieldName, message);
      }
      return message;
    },
  });

  return {
    async charge({ args, context, info }) {
      const fieldName = info.fieldName;
      const caller = context as CallerContext;
      const verdict = limiter(
        { parent: undefined, args: args as Record<string, unknown>, context: { caller, fieldName }, info },
        { max: 1, window: String(budgetFor(fieldName).windowMs) },
      );
      const { hit, budget, now } = lastHit!;
      lastHit = undefined;
      // The hit settles first: the library's verdict is derived from it.
      const refusal = await verdict;
      const { count, freesAt } = await hit;
      return {
        refusal,
        limit: budget.max,
        remaining: Math.max(0, budget.max - count),
        resetSeconds: Math.max(0, Math.ceil((freesAt - now) / 1000)),
      };
    },
    close: () => store.close(),
  };
}

/**
 * The Redis store, whose module (and ioredis, ~50 ms of a start's CPU) is loaded only when
 * REDIS_URL is set; hits wait for it the first time.
 */
function loadRedisStore(options: RedisStoreOptions): RateLimitStore {
  const store = loadLater(() => import('./redis-store.js').then(({ createRedisStore }) => createRedisStore(options)));
  return {
    hit: async (key, budget, now) => (await store.get()).hit(key, budget, now),
    // Waits for a load under way; a store that never loaded has nothing to close.
    close: async () => (await store.current())?.close(),
  };
}

// The library only filters it, never writes to it.
const NO_EARLIER_CALLS: number[] = [];

/** Per account (the key's user: all its keys share one budget), or per client address for public fields and callers without a valid key. */
function callerIdentity(fieldName: string, ctx: CallerContext): string {
  if (ctx.isAdmin && !PUBLIC_FIELDS.has(fieldName)) return 'admin';
  if (ctx.viewer && !PUBLIC_FIELDS.has(fieldName)) return `user:${ctx.viewer.id}`;
  return `address:${ctx.clientAddress}`;
}

function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  if (ms % 1000 === 0) return ms === 1000 ? 'second' : `${ms / 1000} seconds`;
  return `${ms} ms`;
}
