import { getGraphQLRateLimiter, type Store } from 'graphql-rate-limit';
import type { Clock } from '../clock.js';
import type { Config } from '../env.js';
import type { Logger } from '../logger.js';
import { budgetTable, PUBLIC_FIELDS, type BudgetOverrides } from './budgets.js';
import { createRedisStore } from './redis-store.js';
import { createMemoryStore, type Hit, type RateLimitStore } from './rate-limit-store.js';
import { RequestRateLimit, type CallerContext, type Charge, type FieldCall } from './request-rate-limit.js';

export interface RateLimitOptions extends BudgetOverrides {
  /** Prefix of the Redis keys, so several deployments (or test runs) can share one Redis. */
  keyPrefix?: string;
}

export interface RateLimiter {
  /** The rate-limit state of a new request, for its GraphQL context. */
  startRequest(request: Request): RequestRateLimit;
  /** The state startRequest made for this request, if any (for its response headers). */
  stateOf(request: Request): RequestRateLimit | undefined;
  close(): Promise<void>;
}

export function createRateLimiter(deps: {
  config: Config;
  clock: Clock;
  logger: Logger;
  options?: RateLimitOptions;
}): RateLimiter {
  const { config, clock, logger, options = {} } = deps;
  const budgetFor = budgetTable(config, options);
  const store: RateLimitStore = config.REDIS_URL
    ? createRedisStore({ url: config.REDIS_URL, keyPrefix: options.keyPrefix ?? 'alertwire:rate-limit:', logger, clock })
    : createMemoryStore();

  async function chargeField(call: FieldCall): Promise<Charge> {
    const fieldName = call.info.fieldName;
    const budget = budgetFor(fieldName);
    const now = clock.now().getTime();
    let hit: Hit | undefined;
    // graphql-rate-limit reads the log, decides, then writes it back: two steps that lose counts
    // under concurrency. This store records inside the read instead (one atomic step) and hands
    // the library the number of earlier calls, stamped "now" so its own clock keeps them all.
    const recordingStore: Store = {
      async getForIdentity(identity) {
        hit = await store.hit(`${identity.contextIdentity}:${identity.fieldIdentity}`, budget, now);
        const earlier = hit.allowed ? hit.count - 1 : hit.count;
        return Array.from({ length: earlier }, () => Date.now());
      },
      setForIdentity() {},
    };
    // A limiter per call, because the store must report this call's hit back (for the headers).
    const limiter = getGraphQLRateLimiter({
      store: recordingStore,
      identifyContext: (ctx: CallerContext) => callerIdentity(fieldName, ctx),
      formatError: ({ max, window }) =>
        `Too many ${fieldName} calls: the budget is ${max} per ${describeWindow(window)}`,
    });
    const refusal = await limiter(call, { max: budget.max, window: String(budget.windowMs) });
    const { count, freesAt } = hit!;
    return {
      refusal,
      limit: budget.max,
      remaining: Math.max(0, budget.max - count),
      resetSeconds: Math.max(0, Math.ceil((freesAt - now) / 1000)),
    };
  }

  const states = new WeakMap<Request, RequestRateLimit>();
  return {
    startRequest(request) {
      const state = new RequestRateLimit(chargeField);
      states.set(request, state);
      return state;
    },
    stateOf: (request) => states.get(request),
    close: () => store.close(),
  };
}

/** Per API key (its user), or per client address for public fields and callers without a valid key. */
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
