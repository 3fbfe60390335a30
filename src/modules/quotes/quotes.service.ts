import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { Config } from '../../env.js';
import { fieldIssues, ValidationError, validationErrorFromZod, type FieldIssue } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { loadLater } from '../../load-later.js';
import { databaseQuoteSource } from './database-quote-source.js';
import type { HttpQuoteSourceOptions } from './http-quote-source.js';
import { createQuotePoller, type QuotePoller } from './quote-poller.js';
import { futureAsOfProblem, QuotePoint, Ticker, type QuotePointInput } from './quote-input.js';
import type { Quote, QuoteSource } from './quote-source.js';
import { quotesRepository } from './quotes.repository.js';

const MAX_QUOTES_PER_UPSERT = 1000;

/** The HTTP source when QUOTES_URL is set, else the database. */
export function createQuoteSource(deps: { db: Db; config: Config; clock: Clock; logger: Logger }): QuoteSource {
  const { config } = deps;
  if (!config.QUOTES_URL) return databaseQuoteSource(deps.db);
  return loadHttpQuoteSource({
    urlTemplate: config.QUOTES_URL,
    priceField: config.QUOTES_PRICE_FIELD,
    timeoutMs: config.QUOTES_TIMEOUT_MS,
    cacheMs: config.QUOTES_CACHE_MS,
    clock: deps.clock,
    logger: deps.logger,
  });
}

/** The HTTP source; its module, and undici (~1 MB of the bundle), load beside the start, not in it. */
function loadHttpQuoteSource(options: HttpQuoteSourceOptions): QuoteSource {
  const source = loadLater(() => import('./http-quote-source.js').then(({ httpQuoteSource }) => httpQuoteSource(options)));
  return { getQuotes: async (tickers) => (await source.get()).getQuotes(tickers) };
}

/** With QUOTES_URL: polls the watched tickers every QUOTES_POLL_INTERVAL into the quotes tables. */
export function createQuotePollerFromConfig(deps: {
  db: Db;
  config: Config;
  clock: Clock;
  logger: Logger;
  watchedTickers: () => Promise<string[]>;
}): QuotePoller | null {
  const { config } = deps;
  if (!config.QUOTES_URL) return null;
  // Uncached: each round must see the provider's current price.
  const source = loadHttpQuoteSource({
    urlTemplate: config.QUOTES_URL,
    priceField: config.QUOTES_PRICE_FIELD,
    timeoutMs: config.QUOTES_TIMEOUT_MS,
    cacheMs: 0,
    clock: deps.clock,
    logger: deps.logger,
  });
  return createQuotePoller({ ...deps, source, intervalMs: config.QUOTES_POLL_INTERVAL });
}

/** A provider failure: masked as INTERNAL, its message goes only to the log under the request id. */
class QuoteSourceUnavailable extends Error {
  override name = 'QuoteSourceUnavailable';
}

export function quotesService(deps: { db: Db; clock: Clock; source: QuoteSource }) {
  const repo = quotesRepository(deps.db);
  return {
    /** The quote of one ticker, null when the source does not know it. */
    async get(ticker: string): Promise<Quote | null> {
      const parsed = Ticker.safeParse(ticker);
      if (!parsed.success) throw validationErrorFromZod(parsed.error.issues, ['ticker']);
      const outcome = (await deps.source.getQuotes([parsed.data])).get(parsed.data);
      if (!outcome) return null;
      if ('error' in outcome) throw new QuoteSourceUnavailable(outcome.error);
      return outcome.quote;
    },

    /** Validates every point first; writes all of them or none. */
    async upsert(points: readonly QuotePointInput[]): Promise<{ count: number }> {
      if (points.length > MAX_QUOTES_PER_UPSERT) {
        throw new ValidationError([{ path: ['input'], message: `At most ${MAX_QUOTES_PER_UPSERT} quotes can be sent at once` }]);
      }
      const now = deps.clock.now();
      const issues: FieldIssue[] = [];
      const valid = points.flatMap((point, index) => {
        const parsed = QuotePoint.safeParse(point);
        const future = point.asOf ? futureAsOfProblem(point.asOf, now) : null;
        if (parsed.success && !future) return [parsed.data];
        issues.push(...fieldIssues(parsed.error?.issues ?? [], ['input', index]));
        if (future) issues.push({ path: ['input', String(index), 'asOf'], message: future });
        return [];
      });
      if (issues.length > 0) throw new ValidationError(issues);
      await repo.record(valid.map((p) => ({ ticker: p.ticker, price: p.price, asOf: p.asOf ?? now })));
      return { count: valid.length };
    },
  };
}

export type QuotesService = ReturnType<typeof quotesService>;
