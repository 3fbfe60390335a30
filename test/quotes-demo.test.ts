import { asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteHistory } from '../src/db/tables.js';
import { DEMO_HISTORY_DAYS, demoTickers, seedDemoQuotes } from '../src/modules/quotes/demo-quotes.js';
import { manualClock } from './helpers/clock.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const clock = manualClock('2026-03-02T15:00:00.000Z');
const QUOTE = `query($ticker: String!) { quote(ticker: $ticker) { ticker price asOf signal } }`;

// Each app opens a fresh database of its own (from the migrated template); the cases only read the seeded quotes.
const apps: TestApp[] = [];
const seededApp = async () => {
  const app = await createTestApp({ clock });
  apps.push(app);
  expect(await seedDemoQuotes(app.database.db, clock)).toBe(true);
  return app;
};
let t: TestApp;
beforeAll(async () => {
  t = await seededApp();
});
afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
});

const history = (app: TestApp) =>
  app.database.db
    .select({ ticker: quoteHistory.ticker, price: quoteHistory.price, asOf: quoteHistory.asOf })
    .from(quoteHistory)
    .orderBy(asc(quoteHistory.ticker), asc(quoteHistory.asOf));

describe('demo quotes', () => {
  it('loads about ten tickers, each with enough history for a signal', async () => {
    expect(demoTickers).toHaveLength(10);
    const { apiKey } = await t.register();
    const quotes = await Promise.all(
      demoTickers.map(async (ticker) => (await t.gql(QUOTE, { apiKey, variables: { ticker } })).body.data!.quote),
    );
    expect(quotes[0]).toEqual({ ticker: 'AAPL', price: 215.3, asOf: '2026-03-02T15:00:00.000Z', signal: 'HOLD' });
    // docs/signals.md lists these; change both together.
    expect(Object.fromEntries(quotes.map((q) => [q.ticker, q.signal]))).toEqual({
      AAPL: 'HOLD', MSFT: 'HOLD', TSLA: 'BUY', NVDA: 'SELL', AMZN: 'HOLD',
      GOOGL: 'HOLD', META: 'SELL', NFLX: 'HOLD', 'BRK.B': 'SELL', AMD: 'BUY',
    });
  });

  it('is the same on every fresh database (deterministic)', async () => {
    const other = await seededApp();
    const points = await history(t);
    expect(points).toHaveLength(demoTickers.length * DEMO_HISTORY_DAYS);
    expect(await history(other)).toEqual(points);
    const { apiKey } = await other.register();
    const tsla = (await other.gql(QUOTE, { apiKey, variables: { ticker: 'TSLA' } })).body.data!.quote;
    expect(tsla).toMatchObject({ price: 180.25, signal: 'BUY' });
  });

  it('never loads twice, and never over existing quotes', async () => {
    const before = await t.database.db.select().from(quoteHistory).where(eq(quoteHistory.ticker, 'AAPL'));
    expect(before).toHaveLength(DEMO_HISTORY_DAYS);
    expect(await seedDemoQuotes(t.database.db, clock)).toBe(false);
    const after = await t.database.db.select().from(quoteHistory).where(eq(quoteHistory.ticker, 'AAPL'));
    expect(after).toHaveLength(DEMO_HISTORY_DAYS);
  });

  it('supports the README quickstart: an AAPL alert above $200 triggers', async () => {
    const { apiKey } = await t.register();
    const created = await t.gql(
      `mutation { createAlert(input: {alertType: PRICE_THRESHOLD, ticker: "AAPL", targetPrice: 200, direction: ABOVE}) { __typename } }`,
      { apiKey },
    );
    expect(created.body.data!.createAlert.__typename).toBe('CreateAlertSuccess');
    const report = (await t.gql(`{ triggeredAlerts { summary { triggeredCount } results { triggered currentValue details } } }`, { apiKey }))
      .body.data!.triggeredAlerts;
    expect(report).toEqual({
      summary: { triggeredCount: 1 },
      results: [{ triggered: true, currentValue: '215.30', details: 'AAPL current price $215.30 is above target $200.00' }],
    });
  });
});
