import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { httpQuoteSource } from '../src/modules/quotes/http-quote-source.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const handlers = new Map<string, Handler>();
let server: Server;
let requests: string[] = [];
let base: string;
let now = new Date('2026-03-01T10:00:00.000Z');
const clock = { now: () => now };

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!);
    const ticker = decodeURIComponent(req.url!.split('/').pop()!);
    const handler = handlers.get(ticker);
    if (handler) handler(req, res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  handlers.clear();
  requests = [];
});

const json = (body: unknown, status = 200): Handler => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};
const source = (overrides: { priceField?: string; timeoutMs?: number; cacheMs?: number } = {}) =>
  httpQuoteSource({
    urlTemplate: `${base}/quotes/{ticker}`,
    priceField: overrides.priceField ?? 'price',
    timeoutMs: overrides.timeoutMs ?? 1000,
    cacheMs: overrides.cacheMs ?? 0,
    clock,
    logger: createLogger('silent'),
  });

describe('HTTP quote source', () => {
  it('reads the price from the configured field, one request per ticker', async () => {
    handlers.set('AAPL', json({ data: { last: 215.3 } }));
    handlers.set('BRK.B', json({ data: { last: '410.60' } }));
    const quotes = await source({ priceField: 'data.last' }).getQuotes(['AAPL', 'BRK.B', 'AAPL']);
    expect(quotes.get('AAPL')).toEqual({ quote: { ticker: 'AAPL', price: 215.3, asOf: now, signal: null } });
    expect(quotes.get('BRK.B')).toMatchObject({ quote: { price: 410.6 } });
    expect(requests.sort()).toEqual(['/quotes/AAPL', '/quotes/BRK.B']);
  });

  it('leaves out a ticker the provider answers 404 for (unknown ticker)', async () => {
    const quotes = await source().getQuotes(['NOPE']);
    expect(quotes.has('NOPE')).toBe(false);
  });

  it('turns a 500 into an error for that ticker only', async () => {
    handlers.set('AAPL', json({ price: 1 }));
    handlers.set('FAIL', json({ message: 'boom' }, 500));
    const quotes = await source().getQuotes(['AAPL', 'FAIL']);
    expect(quotes.get('FAIL')).toEqual({ error: 'Quote source answered HTTP 500 for FAIL' });
    expect(quotes.get('AAPL')).toMatchObject({ quote: { price: 1 } });
  });

  it('turns malformed JSON into an error', async () => {
    handlers.set('BAD', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"price": 1'));
    expect((await source().getQuotes(['BAD'])).get('BAD')).toEqual({ error: 'Quote source sent malformed JSON for BAD' });
  });

  it('turns a missing or non-positive price into an error', async () => {
    handlers.set('NOFIELD', json({ other: 1 }));
    handlers.set('ZERO', json({ price: 0 }));
    const quotes = await source().getQuotes(['NOFIELD', 'ZERO']);
    expect(quotes.get('NOFIELD')).toEqual({ error: 'Quote source sent no valid price in "price" for NOFIELD' });
    expect(quotes.get('ZERO')).toEqual({ error: 'Quote source sent no valid price in "price" for ZERO' });
  });

  it('gives up after the configured timeout', async () => {
    handlers.set('SLOW', () => {}); // never answers
    const started = Date.now();
    const quotes = await source({ timeoutMs: 100 }).getQuotes(['SLOW']);
    expect(quotes.get('SLOW')).toEqual({ error: 'Quote source timed out after 100 ms for SLOW' });
    expect(Date.now() - started).toBeLessThan(2000);
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
    handlers.set('AAPL', (req, res) => json({ price: price++ })(req, res));
    const cached = source({ cacheMs: 5000 });
    expect((await cached.getQuotes(['AAPL'])).get('AAPL')).toMatchObject({ quote: { price: 100 } });
    now = new Date(now.getTime() + 4999);
    expect((await cached.getQuotes(['AAPL'])).get('AAPL')).toMatchObject({ quote: { price: 100 } });
    now = new Date(now.getTime() + 1);
    expect((await cached.getQuotes(['AAPL'])).get('AAPL')).toMatchObject({ quote: { price: 101 } });
    expect(requests).toHaveLength(2);
  });
});
