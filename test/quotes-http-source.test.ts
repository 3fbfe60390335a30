import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { httpQuoteSource } from '../src/modules/quotes/http-quote-source.js';
import { manualClock } from './helpers/clock.js';
import { createReceiver, type Receiver, type ReplyFn } from './helpers/receiver.js';

/** What the provider answers per ticker; a ticker without an answer is unknown (404). */
const answers = new Map<string, ReplyFn>();
let provider: Receiver;
const clock = manualClock('2026-03-01T10:00:00.000Z');

beforeAll(async () => {
  provider = await createReceiver((request, index) => {
    const answer = answers.get(decodeURIComponent(request.path.split('/').pop()!));
    return answer ? answer(request, index) : { status: 404 };
  });
});
afterAll(() => provider.close());
beforeEach(() => {
  answers.clear();
  provider.requests.length = 0;
});

const json = (body: unknown, status = 200): ReplyFn => () => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const source = (overrides: { priceField?: string; timeoutMs?: number; cacheMs?: number } = {}) =>
  httpQuoteSource({
    urlTemplate: `${provider.origin}/quotes/{ticker}`,
    priceField: overrides.priceField ?? 'price',
    timeoutMs: overrides.timeoutMs ?? 1000,
    cacheMs: overrides.cacheMs ?? 0,
    clock,
    logger: createLogger('silent'),
  });
const paths = () => provider.requests.map((r) => r.path);

describe('HTTP quote source', () => {
  it('reads the price from the configured field, one request per ticker', async () => {
    answers.set('AAPL', json({ data: { last: 215.3 } }));
    answers.set('BRK.B', json({ data: { last: '410.60' } }));
    const quotes = await source({ priceField: 'data.last' }).getQuotes(['AAPL', 'BRK.B', 'AAPL']);
    expect(quotes.get('AAPL')).toEqual({ quote: { ticker: 'AAPL', price: 215.3, asOf: clock.now(), signal: null } });
    expect(quotes.get('BRK.B')).toMatchObject({ quote: { price: 410.6 } });
    expect(paths().sort()).toEqual(['/quotes/AAPL', '/quotes/BRK.B']);
  });

  it('leaves out a ticker the provider answers 404 for (unknown ticker)', async () => {
    const quotes = await source().getQuotes(['NOPE']);
    expect(quotes.has('NOPE')).toBe(false);
  });

  it('turns a 500 into an error for that ticker only', async () => {
    answers.set('AAPL', json({ price: 1 }));
    answers.set('FAIL', json({ message: 'boom' }, 500));
    const quotes = await source().getQuotes(['AAPL', 'FAIL']);
    expect(quotes.get('FAIL')).toEqual({ error: 'Quote source answered HTTP 500 for FAIL' });
    expect(quotes.get('AAPL')).toMatchObject({ quote: { price: 1 } });
  });

  it('turns malformed JSON into an error', async () => {
    answers.set('BAD', () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"price": 1' }));
    expect((await source().getQuotes(['BAD'])).get('BAD')).toEqual({ error: 'Quote source sent malformed JSON for BAD' });
  });

  it('turns a missing or non-positive price into an error', async () => {
    answers.set('NOFIELD', json({ other: 1 }));
    answers.set('ZERO', json({ price: 0 }));
    const quotes = await source().getQuotes(['NOFIELD', 'ZERO']);
    expect(quotes.get('NOFIELD')).toEqual({ error: 'Quote source sent no valid price in "price" for NOFIELD' });
    expect(quotes.get('ZERO')).toEqual({ error: 'Quote source sent no valid price in "price" for ZERO' });
  });

  it('gives up after its configured timeout, while a source with a longer one still waits', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    answers.set('SLOW', () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"price": 7}', until: held }));
    try {
      const patient = source({ timeoutMs: 60_000 }).getQuotes(['SLOW']);
      let patientDone = false;
      void patient.then(() => (patientDone = true));
      await provider.waitFor(1);
      const quotes = await source({ timeoutMs: 50 }).getQuotes(['SLOW']);
      expect(quotes.get('SLOW')).toEqual({ error: 'Quote source timed out after 50 ms for SLOW' });
      // The provider answers nobody yet, and the source asking first still waits: only its own 50 ms ended the second.
      expect(patientDone).toBe(false);
      release();
      expect((await patient).get('SLOW')).toMatchObject({ quote: { price: 7 } });
    } finally {
      release();
    }
  });

  it('reports an unreachable provider without its URL', async () => {
    const closed = httpQuoteSource({
      urlTemplate: 'http://127.0.0.1:1/secret-token/{ticker}',
      priceField: 'price',
      timeoutMs: 1000,
      cacheMs: 0,
      clock,
      logger: createLogger('silent'),
    });
    const outcome = (await closed.getQuotes(['AAPL'])).get('AAPL');
    expect(outcome).toEqual({ error: 'Quote source could not be reached for AAPL' });
  });

  it('caches answers for cacheMs of the clock', async () => {
    let price = 100;
    answers.set('AAPL', (request, index) => json({ price: price++ })(request, index));
    const cached = source({ cacheMs: 5000 });
    expect((await cached.getQuotes(['AAPL'])).get('AAPL')).toMatchObject({ quote: { price: 100 } });
    clock.advance(4999);
    expect((await cached.getQuotes(['AAPL'])).get('AAPL')).toMatchObject({ quote: { price: 100 } });
    clock.advance(1);
    expect((await cached.getQuotes(['AAPL'])).get('AAPL')).toMatchObject({ quote: { price: 101 } });
    expect(paths().filter((path) => path === '/quotes/AAPL')).toHaveLength(2);
  });
});
