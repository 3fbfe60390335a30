import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { quotesRepository, type QuotePointRow } from './quotes.repository.js';

/** DEMO DATA, not market data: made-up prices so the quickstart works offline. */
const DEMO_TICKERS: { ticker: string; lastPrice: number; trend: -1 | 0 | 1 }[] = [
  { ticker: 'AAPL', lastPrice: 215.3, trend: 0 },
  { ticker: 'MSFT', lastPrice: 415.5, trend: 0 },
  { ticker: 'TSLA', lastPrice: 180.25, trend: -1 },
  { ticker: 'NVDA', lastPrice: 125.8, trend: 1 },
  { ticker: 'AMZN', lastPrice: 185.4, trend: 0 },
  { ticker: 'GOOGL', lastPrice: 170.1, trend: 0 },
  { ticker: 'META', lastPrice: 505.75, trend: 1 },
  { ticker: 'NFLX', lastPrice: 640.2, trend: 0 },
  { ticker: 'BRK.B', lastPrice: 410.6, trend: 0 },
  { ticker: 'AMD', lastPrice: 150.35, trend: -1 },
];
export const DEMO_HISTORY_DAYS = 30;
const DAY_MS = 86_400_000;

/** A fixed pseudo-random sequence per ticker (LCG), so every fresh database gets the same prices. */
function sequence(seedText: string): () => number {
  let state = [...seedText].reduce((acc, ch) => (acc * 31 + ch.charCodeAt(0)) >>> 0, 7);
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Daily points ending at `now`; the last 14 days follow the trend so the signals differ (see docs/signals.md). */
function demoQuotePoints(now: Date): QuotePointRow[] {
  return DEMO_TICKERS.flatMap(({ ticker, lastPrice, trend }) => {
    const random = sequence(ticker);
    const prices = [lastPrice];
    for (let daysBack = 1; daysBack < DEMO_HISTORY_DAYS; daysBack++) {
      const volatility = lastPrice * 0.01;
      const drift = daysBack <= 14 ? trend * volatility * 0.8 : 0;
      const change = drift + (random() - 0.5) * 2 * volatility;
      prices.unshift(Math.round((prices[0]! - change) * 100) / 100);
    }
    return prices.map((price, i) => ({
      ticker,
      price,
      asOf: new Date(now.getTime() - (DEMO_HISTORY_DAYS - 1 - i) * DAY_MS),
    }));
  });
}

/** Loads the demo set into an empty quotes store; returns false (and writes nothing) otherwise. */
export async function seedDemoQuotes(db: Db, clock: Clock): Promise<boolean> {
  const repo = quotesRepository(db);
  if (!(await repo.isEmpty())) return false;
  await repo.record(demoQuotePoints(clock.now()));
  return true;
}

export const demoTickers = DEMO_TICKERS.map((t) => t.ticker);
