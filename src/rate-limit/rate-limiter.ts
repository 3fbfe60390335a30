import { getGraphQLRateLimiter, type Store } from 'graphql-rate-limit';
import type { Clock } from '../clock.js';
import type { Config } from '../env.js';
import type { Logger } from '../logger.js';
import { budgetTable, PUBLIC_FIELDS, type Budget, type BudgetOverrides } from './budgets.js';
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

  // The call being charged. graphql-rate-limit calls the store synchronously inside `limiter()`,
  // before its first await, so the charge hands its budget and clock reading over in this slot
  // and gets the store's answer back in it; one limiter then serves every call.
  let handoff: PendingCharge | undefined;
  const refusals = new Map<string, string>();
  // graphql-rate-limit reads the log, decides, then writes it back: two steps that lose counts
  // under concurrency, and O(calls in the window) arrays per call. Our store decides inside the
  // read instead (one atomic step); the library is told max 1 and shown one earlier call when
  // the store refused, none when it allowed, so it reaches the same verdict in O(1).
  const recordingStore: Store = {
    async getForIdentity(identity) {
      const call = handoff!;
      handoff = undefined;
      call.hit = await store.hit(`${identity.contextIdentity}:${identity.fieldIdentity}`, call.budget, call.now);
      return call.hit.allowed ? [] : [Date.now()];
    },
    setForIdentity() {},
  };
  const limiter = getGraphQLRateLimiter({
    store: recordingStore,
    identifyContext: (ctx: CallerContext) => callerIdentity(handoff!.fieldName, ctx),
    // Called for every call, refused or not: the message is built once per field.
    formatError: ({ fieldName }) => {
      let message = refusals.get(fieldName);
      if (message === undefined) {
        message = refusalMessage(fieldName, budgetFor(fieldName));
        refusals.set(fieldName, message);
      }
      return message;
    },
  });

  async function chargeField(call: FieldCall): Promise<Charge> {
    const fieldName = call.info.fieldName;
    const budget = budgetFor(fieldName);
    const now = clock.now().getTime();
    const charge: PendingCharge = { fieldName, budget, now };
    handoff = charge;
    const verdict = limiter(call, { max: 1, window: String(budget.windowMs) });
    handoff = undefined;
    const refusal = await verdict;
    const { count, freesAt } = charge.hit!;
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

interface PendingCharge {
  fieldName: string;
  budget: Budget;
  now: number;
  hit?: Hit;
}

/** Per API key (its user), or per client address for public fields and callers without a valid key. */
function callerIdentity(fieldName: string, ctx: CallerContext): string {
  if (ctx.isAdmin && !PUBLIC_FIELDS.has(fieldName)) return 'admin';
  if (ctx.viewer && !PUBLIC_FIELDS.has(fieldName)) return `user:${ctx.viewer.id}`;
  return `address:${ctx.clientAddress}`;
}

function refusalMessage(fieldName: string, { max, windowMs }: Budget): string {
  return `Too many ${fieldName} calls: the budget is ${max} per ${describeWindow(windowMs)}`;
}

function describeWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`;
  if (ms % 1000 === 0) return ms === 1000 ? 'second' : `${ms / 1000} seconds`;
  return `${ms} ms`;
}
