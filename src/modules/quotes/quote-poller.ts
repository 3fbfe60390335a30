import { setClockTimer, type Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { QuoteSource } from './quote-source.js';
import { quotesRepository } from './quotes.repository.js';

export interface QuotePollerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** The HTTP source, read without its cache. */
  source: QuoteSource;
  intervalMs: number;
  /** The tickers some live alert watches; no other ticker is asked for. */
  watchedTickers: () => Promise<string[]>;
}

export interface QuotePoller {
  start(): void;
  stop(): Promise<void>;
  /** One round now: returns the tickers whose price moved and were recorded. */
  pollOnce(): Promise<string[]>;
}

/**
 * Brings an HTTP quote source's prices into the quotes tables, so that a move is a recorded
 * price change like an upsert and the evaluators see it. Only a price that differs from the
 * stored one is recorded; several processes polling at once record a move at most a few times,
 * which the alerts' edge-triggered state makes harmless.
 */
export function createQuotePoller(deps: QuotePollerDeps): QuotePoller {
  const repo = quotesRepository(deps.db);
  let cancel: (() => void) | null = null;
  let round: Promise<unknown> | null = null;
  let stopped = false;

  async function pollOnce(): Promise<string[]> {
    const tickers = await deps.watchedTickers();
    if (tickers.length === 0) return [];
    const [outcomes, stored] = await Promise.all([deps.source.getQuotes(tickers), repo.findLatest(tickers)]);
    const storedPrice = new Map(stored.map((q) => [q.ticker, q.price]));
    const moved = [...outcomes.values()].flatMap((outcome) =>
      'quote' in outcome && storedPrice.get(outcome.quote.ticker) !== outcome.quote.price ? [outcome.quote] : [],
    );
    for (const [ticker, outcome] of outcomes) {
      if ('error' in outcome) deps.logger.warn('quote poll failed for a ticker', { ticker, error: outcome.error });
    }
    return repo.record(moved.map((q) => ({ ticker: q.ticker, price: q.price, asOf: q.asOf })));
  }

  function schedule(): void {
    if (stopped) return;
    cancel = setClockTimer(deps.clock, tick, deps.intervalMs);
  }

  function tick(): void {
    round = pollOnce()
      .catch((error: unknown) => deps.logger.error('quote poll failed', { error }))
      .finally(() => {
        round = null;
        schedule();
      });
  }

  return {
    start() {
      stopped = false;
      tick();
    },
    pollOnce,
    async stop() {
      stopped = true;
      cancel?.();
      await round;
    },
  };
}
