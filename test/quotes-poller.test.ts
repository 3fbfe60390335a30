import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteHistory, quotes } from '../src/db/tables.js';
import { movableClock } from './helpers/clock.js';
import { pushAlertSteps } from './helpers/push-alerts.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const INTERVAL_MS = 60_000;
const prices = new Map<string, number>([
  ['POLLA', 100],
  ['UNWATCHED', 10],
]);
const clock = movableClock();
let provider: Receiver;
let t: TestApp;
let receiver: Receiver;

beforeAll(async () => {
  provider = await createReceiver((request) => {
    const price = prices.get(request.path.split('/').pop()!);
    if (price === undefined) return { status: 404 };
    return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ price }) };
  });
  t = await createTestApp({
    clock,
    env: { QUOTES_URL: `${provider.origin}/v1/{ticker}`, QUOTES_POLL_INTERVAL: '1m', WEBHOOK_RETRY_BASE_MS: '10' },
  });
  receiver = await createReceiver();
  await t.startWorker();
  await t.startEvaluator();
});
afterAll(async () => {
  await t.close();
  await receiver.close();
  await provider.close();
});

/** Moves the clock one poll interval at a time until `check` passes. */
const afterPolls = (check: () => Promise<void> | void) =>
  eventually(async () => {
    clock.advance(INTERVAL_MS);
    await check();
  });

const asked = () => provider.requests.map((r) => r.path.split('/').pop()!);
const storedPrice = async (ticker: string) =>
  (await t.database.db.select().from(quotes).where(eq(quotes.ticker, ticker)))[0]?.price;

describe('the HTTP quote source, polled every QUOTES_POLL_INTERVAL', () => {
  it('asks only for watched tickers, records a moved price, and the crossing is delivered', async () => {
    const steps = pushAlertSteps(t);
    const user = await steps.userWithWebhook(receiver.url);
    await steps.createAlert(user.apiKey, { ticker: 'POLLA', targetPrice: 110 });
    await afterPolls(async () => expect(await storedPrice('POLLA')).toBe(100));

    prices.set('POLLA', 120);
    await afterPolls(async () => expect(await storedPrice('POLLA')).toBe(120));
    // Time stands still from here: the send's own timeout reads this clock too.
    await receiver.waitFor(1);
    const body = JSON.parse(receiver.requests[0]!.body);
    expect(body.triggered_alerts[0]).toMatchObject({ alert: { ticker: 'POLLA' }, current_value: '120.00' });

    // Rounds without a move record nothing.
    const before = asked().length;
    await afterPolls(() => expect(asked().length).toBeGreaterThanOrEqual(before + 3));
    await steps.evaluated();
    const history = await t.database.db.select().from(quoteHistory).where(eq(quoteHistory.ticker, 'POLLA'));
    expect(history.map((h) => h.price)).toEqual([100, 120]);
    expect(asked()).not.toContain('UNWATCHED');
    expect(new Set(asked())).toEqual(new Set(['POLLA']));
  });
});
