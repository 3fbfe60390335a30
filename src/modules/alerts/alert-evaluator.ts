import { setClockTimer, type Clock } from '../../clock.js';
import type { Database } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { QUOTES_CHANGED_CHANNEL } from '../quotes/quotes.repository.js';
import { runEvaluationPass, type EnqueueMany, type PassResult } from './evaluation-pass.js';

export interface AlertEvaluatorDeps {
  database: Pick<Database, 'db' | 'listen'>;
  clock: Clock;
  logger: Logger;
  enqueueMany: EnqueueMany;
  /** Most tickers per pass; default 1000. */
  batchSize?: number;
}

export interface AlertEvaluator {
  start(): Promise<void>;
  /** Finishes the pass in progress; unevaluated changes stay for the next evaluator. */
  stop(): Promise<void>;
  /** Evaluates pending changes now (also done on NOTIFY, at start and on a slow safety timer). */
  wake(): void;
  /** Resolves once no pass is running or asked for; tests await it after a wake. */
  idle(): Promise<void>;
}

// A safety net for a NOTIFY lost while a connection was re-established; not a polling loop.
const SAFETY_INTERVAL_MS = 30_000;
const RETRY_MS = 1_000;

/** Runs evaluation passes whenever a price change commits, until none is left to claim. */
export function createAlertEvaluator(deps: AlertEvaluatorDeps): AlertEvaluator {
  const { clock, logger } = deps;
  const batchSize = deps.batchSize ?? 1000;
  let started = false;
  let stopping = false;
  let running: Promise<void> | null = null;
  let again = false;
  let cancelTimer: (() => void) | null = null;
  let unlisten: (() => Promise<void>) | null = null;

  function schedule(ms: number): void {
    cancelTimer?.();
    cancelTimer = setClockTimer(clock, wake, ms);
  }

  async function drain(): Promise<void> {
    for (;;) {
      const result: PassResult = await runEvaluationPass({ db: deps.database.db, clock, logger, enqueueMany: deps.enqueueMany, batchSize });
      if (result.changes === 0 || stopping) return;
      logger.debug('alert evaluation pass', { ...result });
    }
  }

  function wake(): void {
    if (!started || stopping) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await drain();
          schedule(SAFETY_INTERVAL_MS);
        } catch (error) {
          // The pass rolled back: its changes are still there for the retry (or another process).
          logger.error('alert evaluation failed; retrying', { error });
          schedule(RETRY_MS);
        }
      } while (again && !stopping);
      running = null;
    })();
  }

  return {
    async start() {
      if (started) return;
      started = true;
      unlisten = await deps.database.listen(QUOTES_CHANGED_CHANNEL, () => wake());
      wake();
    },
    wake,
    async idle() {
      while (running) await running;
    },
    async stop() {
      if (!started || stopping) return;
      stopping = true;
      cancelTimer?.();
      await unlisten?.().catch(() => {});
      await running;
    },
  };
}
