import type { Db } from '../../db/client.js';
import type { QuoteOutcome, QuoteSource } from './quote-source.js';
import { quotesRepository } from './quotes.repository.js';
import { SIGNAL_HISTORY_LENGTH, signalFromHistory } from './signal.js';

/** The default source: the quotes tables, fed by upsertQuotes, the CSV import and the demo seed. */
export function databaseQuoteSource(db: Db): QuoteSource {
  const repo = quotesRepository(db);
  return {
    async getQuotes(tickers) {
      const unique = [...new Set(tickers)];
      const [latest, history] = await Promise.all([
        repo.findLatest(unique),
        repo.findRecentHistory(unique, SIGNAL_HISTORY_LENGTH),
      ]);
      const outcomes = new Map<string, QuoteOutcome>();
      for (const row of latest) {
        const signal = signalFromHistory(history.get(row.ticker) ?? []);
        outcomes.set(row.ticker, { quote: { ticker: row.ticker, price: row.price, asOf: row.asOf, signal } });
      }
      return outcomes;
    },
  };
}
