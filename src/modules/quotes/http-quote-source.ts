import { request } from 'undici';
import type { Clock } from '../../clock.js';
import type { Logger } from '../../logger.js';
import type { QuoteOutcome, QuoteSource } from './quote-source.js';

export interface HttpQuoteSourceOptions {
  /** A URL with `{ticker}` in it, e.g. https://quotes.example.com/v1/{ticker}. */
  urlTemplate: string;
  /** Dotted path of the price in the JSON answer, e.g. `price` or `data.last`. */
  priceField: string;
  timeoutMs: number;
  cacheMs: number;
  clock: Clock;
  logger: Logger;
}

type Lookup = QuoteOutcome | 'unknown';

/**
 * Production source: one GET per ticker, in parallel. It has no history, so its quotes carry no
 * signal. Answers are cached for `cacheMs` so a burst of checks does not hammer the provider.
 */
export function httpQuoteSource(options: HttpQuoteSourceOptions): QuoteSource {
  const cache = new Map<string, { until: number; lookup: Lookup }>();

  async function fetchOne(ticker: string): Promise<Lookup> {
    const url = options.urlTemplate.replaceAll('{ticker}', encodeURIComponent(ticker));
    try {
      const response = await request(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      if (response.statusCode === 404) {
        await response.body.dump();
        return 'unknown';
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        await response.body.dump();
        return { error: `Quote source answered HTTP ${response.statusCode} for ${ticker}` };
      }
      let body: unknown;
      try {
        body = await response.body.json();
      } catch {
        return { error: `Quote source sent malformed JSON for ${ticker}` };
      }
      const price = toPrice(readPath(body, options.priceField));
      if (!Number.isFinite(price) || price <= 0) {
        return { error: `Quote source sent no valid price in "${options.priceField}" for ${ticker}` };
      }
      return { quote: { ticker, price, asOf: options.clock.now(), signal: null } };
    } catch (error) {
      if (isTimeout(error)) return { error: `Quote source timed out after ${options.timeoutMs} ms for ${ticker}` };
      // The URL may carry a provider key, so it stays in the log only.
      options.logger.warn('quote source request failed', { ticker, error });
      return { error: `Quote source could not be reached for ${ticker}` };
    }
  }

  async function lookup(ticker: string): Promise<Lookup> {
    const now = options.clock.now().getTime();
    const cached = cache.get(ticker);
    if (cached && cached.until > now) return cached.lookup;
    const result = await fetchOne(ticker);
    if (options.cacheMs > 0 && result !== 'unknown' && 'quote' in result) {
      cache.set(ticker, { until: now + options.cacheMs, lookup: result });
    }
    return result;
  }

  return {
    async getQuotes(tickers) {
      const unique = [...new Set(tickers)];
      const results = await Promise.all(unique.map(async (ticker) => [ticker, await lookup(ticker)] as const));
      const outcomes = new Map<string, QuoteOutcome>();
      for (const [ticker, result] of results) if (result !== 'unknown') outcomes.set(ticker, result);
      return outcomes;
    },
  };
}

function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function toPrice(value: unknown): number {
  if (typeof value === 'number') return value;
  return typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
}

function isTimeout(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | null;
  return (
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_ABORTED'
  );
}
