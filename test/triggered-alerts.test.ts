import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertEventHub } from '../src/modules/alerts/alert-events.js';
import { createLogger } from '../src/logger.js';
import { alertsService } from '../src/modules/alerts/alerts.service.js';
import { databaseQuoteSource } from '../src/modules/quotes/database-quote-source.js';
import type { QuoteSource } from '../src/modules/quotes/quote-source.js';
import { manualClock } from './helpers/clock.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const ADMIN_KEY = 'admin-key-0123456789';
const CREATE = `mutation($input: CreateAlertInput!) { createAlert(input: $input) {
  __typename ... on CreateAlertSuccess { alert { id } } ... on ValidationError { fields { path message } }
} }`;
const CHECK = `{ triggeredAlerts {
  evaluatedAt
  summary { totalAlerts triggeredCount errorCount }
  results { triggered currentValue details error evaluatedAt alert { id ticker alertType } }
} }`;

const clock = manualClock('2026-03-02T15:00:00.000Z');
let t: TestApp;
let asOf = Date.parse('2026-01-01T00:00:00.000Z');

beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY }, clock });
});
afterAll(() => t.close());

/** Records prices in order, each point a minute after the previous one. */
async function setPrices(ticker: string, ...prices: number[]) {
  const input = prices.map((price) => ({ ticker, price, asOf: new Date((asOf += 60_000)).toISOString() }));
  const res = await t.gql(`mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`, {
    apiKey: ADMIN_KEY,
    variables: { input },
  });
  expect(res.body.data!.upsertQuotes.count).toBe(prices.length);
}

async function createAlert(apiKey: string, input: Record<string, unknown>): Promise<string> {
  clock.advance(1000);
  const res = await t.gql(CREATE, { apiKey, variables: { input } });
  expect(res.body.data!.createAlert.__typename).toBe('CreateAlertSuccess');
  return res.body.data!.createAlert.alert.id;
}

async function check(apiKey: string) {
  const res = await t.gql(CHECK, { apiKey });
  expect(res.body.errors).toBeUndefined();
  return res.body.data!.triggeredAlerts;
}

async function evaluateOne(ticker: string, input: Record<string, unknown>, price: number) {
  const { apiKey } = await t.register();
  await createAlert(apiKey, { ticker, ...input });
  await setPrices(ticker, price);
  return (await check(apiKey)).results[0];
}

describe('PRICE_THRESHOLD compares strictly', () => {
  const above = { alertType: 'PRICE_THRESHOLD', targetPrice: 200, direction: 'ABOVE' };
  const below = { alertType: 'PRICE_THRESHOLD', targetPrice: 200, direction: 'BELOW' };
  beforeAll(() => setPrices('PT', 100));

  it('ABOVE triggers at 200.01', async () => {
    expect(await evaluateOne('PT', above, 200.01)).toMatchObject({
      triggered: true,
      currentValue: '200.01',
      details: 'PT current price $200.01 is above target $200.00',
      error: null,
    });
  });
  it('ABOVE does not trigger at exactly 200', async () => {
    expect(await evaluateOne('PT', above, 200)).toMatchObject({
      triggered: false,
      currentValue: '200.00',
      details: 'PT current price $200.00 is not above target $200.00',
    });
  });
  it('BELOW triggers at 199.99', async () => {
    expect(await evaluateOne('PT', below, 199.99)).toMatchObject({
      triggered: true,
      details: 'PT current price $199.99 is below target $200.00',
    });
  });
  it('BELOW does not trigger at exactly 200', async () => {
    expect(await evaluateOne('PT', below, 200)).toMatchObject({ triggered: false, details: 'PT current price $200.00 is not below target $200.00' });
  });
});

describe('PRICE_CHANGE_PERCENT triggers at |price − baseline| / baseline ≥ threshold', () => {
  const fivePercent = { alertType: 'PRICE_CHANGE_PERCENT', thresholdPercent: 5 };
  beforeAll(() => setPrices('PCT', 200));
  afterAll(() => setPrices('PCT', 200));

  it.each([
    [210, true, 'PCT moved +5.00% from baseline $200.00 to $210.00 (threshold 5.00%, reached)'],
    [209.99, false, 'PCT moved +5.00% from baseline $200.00 to $209.99 (threshold 5.00%, not reached)'],
    [190, true, 'PCT moved -5.00% from baseline $200.00 to $190.00 (threshold 5.00%, reached)'],
    [190.01, false, 'PCT moved -5.00% from baseline $200.00 to $190.01 (threshold 5.00%, not reached)'],
  ])('price %s → triggered %s', async (price, triggered, details) => {
    await setPrices('PCT', 200);
    expect(await evaluateOne('PCT', fivePercent, price)).toMatchObject({ triggered, details, currentValue: price.toFixed(2) });
  });
});

describe('SIGNAL_CHANGE', () => {
  it('triggers when the RSI signal equals the target, and not otherwise', async () => {
    await setPrices('SIG', ...Array.from({ length: 15 }, (_, i) => 100 + i));
    const { apiKey } = await t.register();
    await createAlert(apiKey, { alertType: 'SIGNAL_CHANGE', ticker: 'SIG', targetSignal: 'SELL' });
    await createAlert(apiKey, { alertType: 'SIGNAL_CHANGE', ticker: 'SIG', targetSignal: 'BUY' });
    const { results } = await check(apiKey);
    expect(results.map((r: Record<string, unknown>) => [r.triggered, r.currentValue, r.details])).toEqual([
      [true, 'SELL', 'SIG signal is SELL, the target signal'],
      [false, 'SELL', 'SIG signal is SELL, not the target BUY'],
    ]);
  });

  it('does not trigger while the history is too short for a signal', async () => {
    await setPrices('SHORT', 10, 11, 12);
    const result = await evaluateOne('SHORT', { alertType: 'SIGNAL_CHANGE', targetSignal: 'HOLD' }, 13);
    expect(result).toMatchObject({
      triggered: false,
      currentValue: null,
      error: null,
      details: 'SHORT has too little price history for a signal yet (target HOLD)',
    });
  });
});

describe('the report', () => {
  it('evaluates every alert at one time and counts the summary', async () => {
    await setPrices('SUMA', 300);
    await setPrices('SUMB', 50);
    const { apiKey } = await t.register();
    const ids = [
      await createAlert(apiKey, { alertType: 'PRICE_THRESHOLD', ticker: 'SUMA', targetPrice: 250, direction: 'ABOVE' }),
      await createAlert(apiKey, { alertType: 'PRICE_THRESHOLD', ticker: 'SUMB', targetPrice: 40, direction: 'BELOW' }),
      await createAlert(apiKey, { alertType: 'PRICE_THRESHOLD', ticker: 'SUMB', targetPrice: 60, direction: 'BELOW' }),
    ];
    clock.advance(5000);
    const report = await check(apiKey);
    const at = clock.now().toISOString();
    expect(report.evaluatedAt).toBe(at);
    expect(report.summary).toEqual({ totalAlerts: 3, triggeredCount: 2, errorCount: 0 });
    expect(report.results.map((r: { alert: { id: string } }) => r.alert.id)).toEqual(ids);
    expect(report.results.map((r: { triggered: boolean }) => r.triggered)).toEqual([true, false, true]);
    expect(report.results.every((r: { evaluatedAt: string }) => r.evaluatedAt === at)).toBe(true);
  });

  it('is empty for a viewer without alerts', async () => {
    const { apiKey } = await t.register();
    expect(await check(apiKey)).toMatchObject({ results: [], summary: { totalAlerts: 0, triggeredCount: 0, errorCount: 0 } });
  });

  it('shows only the viewer’s own alerts', async () => {
    await setPrices('ISO', 10);
    const a = await t.register();
    const b = await t.register();
    await createAlert(a.apiKey, { alertType: 'PRICE_THRESHOLD', ticker: 'ISO', targetPrice: 5, direction: 'ABOVE' });
    expect((await check(b.apiKey)).summary.totalAlerts).toBe(0);
    expect((await check(a.apiKey)).summary).toEqual({ totalAlerts: 1, triggeredCount: 1, errorCount: 0 });
  });

  it('reads all quotes in one batch, whatever the number of alerts', async () => {
    await setPrices('BATCHA', 10);
    await setPrices('BATCHB', 20);
    const { apiKey, userId } = await t.register();
    for (const ticker of ['BATCHA', 'BATCHB', 'BATCHA', 'BATCHB', 'BATCHA']) {
      await createAlert(apiKey, { alertType: 'PRICE_THRESHOLD', ticker, targetPrice: 15, direction: 'ABOVE' });
    }
    const reads: string[][] = [];
    const database = databaseQuoteSource(t.database.db);
    const counting: QuoteSource = { getQuotes: (tickers) => (reads.push([...tickers]), database.getQuotes(tickers)) };
    const service = alertsService({ db: t.database.db, clock, quoteSource: counting, logger: createLogger('silent'), enqueueDelivery: async () => null, findDelivery: async () => null, events: createAlertEventHub(t.database, createLogger('silent')) });
    const report = await service.evaluate(userId);
    expect(reads).toEqual([['BATCHA', 'BATCHB']]);
    expect(report.summary).toEqual({ totalAlerts: 5, triggeredCount: 2, errorCount: 0 });
    expect(report.results[0]!.alert).toMatchObject({ userId, ticker: 'BATCHA', alertType: 'PRICE_THRESHOLD', targetPrice: 15 });
  });

  it('gives each alert an error when the quote source throws, without failing the query', async () => {
    const { userId, apiKey } = await t.register();
    await setPrices('THROW', 10);
    await createAlert(apiKey, { alertType: 'PRICE_THRESHOLD', ticker: 'THROW', targetPrice: 5, direction: 'ABOVE' });
    const broken: QuoteSource = { getQuotes: () => Promise.reject(new Error('connection reset by db')) };
    const logs: string[] = [];
    const service = alertsService({ db: t.database.db, clock, quoteSource: broken, logger: createLogger('error', (l) => logs.push(l)), enqueueDelivery: async () => null, findDelivery: async () => null, events: createAlertEventHub(t.database, createLogger('silent')) });
    const report = await service.evaluate(userId);
    expect(report.results[0]).toMatchObject({ triggered: false, error: 'The quote source is unavailable', currentValue: null });
    expect(report.summary.errorCount).toBe(1);
    expect(logs.join('')).toContain('connection reset by db');
  });
});
