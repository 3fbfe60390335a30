import type { Budget } from './budgets.js';

export interface Hit {
  /** False when the budget was already spent; a refused call is not recorded. */
  allowed: boolean;
  /** Calls counted in the window, this one included when allowed. */
  count: number;
  /** When the oldest counted call leaves the window (epoch ms): the next call frees up then. */
  freesAt: number;
}

/**
 * A sliding-window log per key. `hit` checks and records in one atomic step, so concurrent
 * requests (in one process or, with Redis, across processes) never both take the last call.
 */
export interface RateLimitStore {
  hit(key: string, budget: Budget, now: number): Promise<Hit>;
  close(): Promise<void>;
}

const SWEEP_EVERY = 1000;

/** The per-process store: a Map of timestamp lists; JavaScript's single thread makes each hit atomic. */
export function createMemoryStore(): RateLimitStore {
  const logs = new Map<string, { stamps: number[]; windowMs: number }>();
  let hitsSinceSweep = 0;

  // Keys of identities that stopped calling would otherwise stay forever.
  const sweep = (now: number) => {
    for (const [key, log] of logs) {
      const newest = log.stamps[log.stamps.length - 1];
      if (newest === undefined || newest <= now - log.windowMs) logs.delete(key);
    }
  };

  return {
    async hit(key, { max, windowMs }, now) {
      if (++hitsSinceSweep >= SWEEP_EVERY) {
        hitsSinceSweep = 0;
        sweep(now);
      }
      const log = logs.get(key) ?? { stamps: [], windowMs };
      log.windowMs = windowMs;
      log.stamps = log.stamps.filter((t) => t > now - windowMs);
      const allowed = log.stamps.length < max;
      if (allowed) log.stamps.push(now);
      logs.set(key, log);
      return { allowed, count: log.stamps.length, freesAt: (log.stamps[0] ?? now) + windowMs };
    },
    async close() {
      logs.clear();
    },
  };
}
