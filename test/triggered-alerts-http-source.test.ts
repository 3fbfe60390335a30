import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiver, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const CREATE = `mutation($input: CreateAlertInput!) { createAlert(input: $input) {
  __typename ... on ValidationError { fields { path message } }
} }`;
const CHECK = `{ triggeredAlerts {
  summary { totalAlerts triggeredCount errorCount }
  results { triggered currentValue details error alert { ticker } }
} }`;

/** What the fake provider answers per ticker: a price, or an HTTP status. */
const answers = new Map<string, number | 'down' | 'garbage'>();
let provider: Receiver;
let t: TestApp;

beforeAll(async () => {
  provider = await createReceiver((request) => {
    const answer = answers.get(request.path.split('/').pop()!);
    const json = { 'content-type': 'application/json' };
    if (answer === undefined) return { status: 404 };
    if (answer === 'down') return { status: 500, body: 'oops' };
    if (answer === 'garbage') return { status: 200, headers: json, body: '{not json' };
    return { status: 200, headers: json, body: JSON.stringify({ quote: { last: answer } }) };
  });
  t = await createTestApp({
    env: { QUOTES_URL: `${provider.origin}/v1/{ticker}`, QUOTES_PRICE_FIELD: 'quote.last', QUOTES_CACHE_MS: '0' },
  });
});
afterAll(async () => {
  await t.close();
  await provider.close();
});

const threshold = (ticker: string) => ({ alertType: 'PRICE_THRESHOLD', ticker, targetPrice: 100, direction: 'ABOVE' });

describe('triggeredAlerts on the HTTP quote source', () => {
  it('turns a failing ticker into an error on its alerts only; the query succeeds', async () => {
    for (const ticker of ['UP', 'DOWN', 'JUNK', 'GONE']) answers.set(ticker, 150);
    const { apiKey } = await t.register();
    for (const ticker of ['UP', 'DOWN', 'JUNK', 'GONE']) {
      expect((await t.gql(CREATE, { apiKey, variables: { input: threshold(ticker) } })).body.data!.createAlert.__typename).toBe(
        'CreateAlertSuccess',
      );
    }
    answers.set('DOWN', 'down');
    answers.set('JUNK', 'garbage');
    answers.delete('GONE');
    const res = await t.gql(CHECK, { apiKey });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const report = res.body.data!.triggeredAlerts;
    expect(report.summary).toEqual({ totalAlerts: 4, triggeredCount: 1, errorCount: 3 });
    expect(report.results).toEqual([
      { alert: { ticker: 'UP' }, triggered: true, currentValue: '150.00', details: 'UP current price $150.00 is above target $100.00', error: null },
      { alert: { ticker: 'DOWN' }, triggered: false, currentValue: null, details: 'Quote source answered HTTP 500 for DOWN', error: 'Quote source answered HTTP 500 for DOWN' },
      { alert: { ticker: 'JUNK' }, triggered: false, currentValue: null, details: 'Quote source sent malformed JSON for JUNK', error: 'Quote source sent malformed JSON for JUNK' },
      { alert: { ticker: 'GONE' }, triggered: false, currentValue: null, details: 'No quote is available for GONE', error: 'No quote is available for GONE' },
    ]);
  });

  it('refuses a ticker the provider does not know, and one it cannot check now', async () => {
    const { apiKey } = await t.register();
    answers.set('BROKEN', 'down');
    const unknown = await t.gql(CREATE, { apiKey, variables: { input: threshold('NOSUCH') } });
    expect(unknown.body.data!.createAlert.fields).toEqual([
      { path: ['input', 'ticker'], message: 'Unknown ticker NOSUCH: the quote source has no quote for it' },
    ]);
    const broken = await t.gql(CREATE, { apiKey, variables: { input: threshold('BROKEN') } });
    expect(broken.body.data!.createAlert.fields).toEqual([
      { path: ['input', 'ticker'], message: 'BROKEN cannot be checked now: Quote source answered HTTP 500 for BROKEN' },
    ]);
  });

  it('answers the quote query from the provider, without a signal', async () => {
    answers.set('LIVE', 42.5);
    const { apiKey } = await t.register();
    const res = await t.gql(`{ quote(ticker: "LIVE") { ticker price signal } }`, { apiKey });
    expect(res.body.data!.quote).toEqual({ ticker: 'LIVE', price: 42.5, signal: null });
  });

  it("answers a provider failure in the quote query as a masked INTERNAL; the provider's words stay in the request's log", async () => {
    answers.set('OUTAGE', 'down');
    const { apiKey } = await t.register();
    const res = await t.gql(`{ quote(ticker: "OUTAGE") { price } }`, { apiKey });
    const [error, ...others] = res.body.errors!;
    expect(others).toEqual([]);
    expect(error).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL' } });
    expect(JSON.stringify(res.body)).not.toContain('HTTP 500');
    const requestId = error!.extensions!.requestId;
    expect(res.headers.get('x-request-id')).toBe(requestId);
    const logged = t.logs.find((l) => l.requestId === requestId && l.msg === 'unexpected error');
    expect(JSON.stringify(logged)).toContain('Quote source answered HTTP 500 for OUTAGE');
  });
});
