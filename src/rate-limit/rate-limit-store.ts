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
  // stamps[head..] are the calls in the window, oldest first: expired ones are dropped from the
  // front, so a hit costs O(1) amortised however large the budget (a filter per hit was O(max)).
  const logs = new Map<string, { stamps: number[]; head: number; windowMs: number }>();
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
      let log = logs.get(key);
      if (!log) {
        log = { stamps: [], head: 0, windowMs };
        logs.set(key, log);
      }
      log.windowMs = windowMs;
      const { stamps } = log;
      while (log.head < stamps.length && stamps[log.head]! <= now - windowMs) log.head++;
      if (log.head > 1024 && log.head * 2 > stamps.length) {
        stamps.splice(0, log.head);
        log.head = 0;
      }
      const count = stamps.length - log.head;
      const allowed = count < max;
      if (allowed) stamps.push(now);
      return { allowed, count: allowed ? count + 1 : count, freesAt: (stamps[log.head] ?? now) + windowMs };
    },
    async close() {
      logs.clear();
    },
  };
}
