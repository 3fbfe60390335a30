import type { Signal } from './signal.js';

export interface Quote {
  ticker: string;
  price: number;
  asOf: Date;
  signal: Signal | null;
}

/** A quote, or why the source could not give one; a ticker the source does not know is absent. */
export type QuoteOutcome = { quote: Quote } | { error: string };

export interface QuoteSource {
  /** Reads every ticker in one batch; never throws for a single ticker's failure. */
  getQuotes(tickers: readonly string[]): Promise<Map<string, QuoteOutcome>>;
}
