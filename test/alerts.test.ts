import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alerts } from '../src/db/tables.js';
import { manualClock } from './helpers/clock.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const ADMIN_KEY = 'admin-key-0123456789';
const ALERT_FIELDS = `__typename id alertType ticker createdAt
  ... on PriceThresholdAlert { targetPrice direction }
  ... on SignalChangeAlert { targetSignal }
  ... on PriceChangePercentAlert { thresholdPercent baselinePrice }`;
const CREATE = `mutation($input: CreateAlertInput!) { createAlert(input: $input) {
  __typename
  ... on CreateAlertSuccess { alert { ${ALERT_FIELDS} } }
  ... on AlertLimitExceeded { message maxAlerts }
  ... on ValidationError { message fields { path message } }
} }`;
const LIST = `{ alerts { count maxAlerts alerts { ${ALERT_FIELDS} } } }`;
const DELETE = `mutation($id: ID!) { deleteAlert(id: $id) {
  __typename ... on DeleteAlertSuccess { id message } ... on AlertNotFound { id message }
} }`;

const clock = manualClock();

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY }, clock });
  const res = await t.gql(`mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`, {
    apiKey: ADMIN_KEY,
    variables: { input: [{ ticker: 'AAPL', price: 215.3 }, { ticker: 'BRK.B', price: 410.6 }] },
  });
  expect(res.body.data!.upsertQuotes.count).toBe(2);
});
afterAll(() => t.close());

// Each create a millisecond later, so "oldest first" never depends on two creates sharing one.
const create = async (apiKey: string, input: Record<string, unknown>) => {
  clock.advance(1);
  return (await t.gql(CREATE, { apiKey, variables: { input } })).body.data!.createAlert;
};
const threshold = { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: 200, direction: 'ABOVE' };
const storedCount = async (userId: string) =>
  (await t.database.db.select().from(alerts).where(eq(alerts.userId, userId))).length;

describe('createAlert', () => {
  it('creates each alert type with its own fields', async () => {
    const { apiKey } = await t.register();
    expect(await create(apiKey, threshold)).toMatchObject({
      __typename: 'CreateAlertSuccess',
      alert: { __typename: 'PriceThresholdAlert', alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: 200, direction: 'ABOVE' },
    });
    expect(await create(apiKey, { alertType: 'SIGNAL_CHANGE', ticker: 'BRK.B', targetSignal: 'BUY' })).toMatchObject({
      alert: { __typename: 'SignalChangeAlert', ticker: 'BRK.B', targetSignal: 'BUY' },
    });
    expect(await create(apiKey, { alertType: 'PRICE_CHANGE_PERCENT', ticker: 'AAPL', thresholdPercent: 5 })).toMatchObject({
      alert: { __typename: 'PriceChangePercentAlert', thresholdPercent: 5, baselinePrice: 215.3 },
    });
  });

  it('treats an explicit null for a forbidden field as not given', async () => {
    const { apiKey } = await t.register();
    const result = await create(apiKey, { ...threshold, targetSignal: null, thresholdPercent: null });
    expect(result.__typename).toBe('CreateAlertSuccess');
  });
});

describe('rejected alert input is a ValidationError with field paths, and stores nothing', () => {
  const T = 'PRICE_THRESHOLD';
  const cases: [string, Record<string, unknown>, { path: string[]; message: string }[]][] = [
    ['missing targetPrice and direction', { alertType: T, ticker: 'AAPL' }, [
      { path: ['input', 'targetPrice'], message: 'targetPrice is required for PRICE_THRESHOLD alerts' },
      { path: ['input', 'direction'], message: 'direction is required for PRICE_THRESHOLD alerts' },
    ]],
    ['forbidden fields', { ...threshold, targetSignal: 'BUY', thresholdPercent: 5 }, [
      { path: ['input', 'targetSignal'], message: 'targetSignal is not allowed for PRICE_THRESHOLD alerts' },
      { path: ['input', 'thresholdPercent'], message: 'thresholdPercent is not allowed for PRICE_THRESHOLD alerts' },
    ]],
    ['negative target', { ...threshold, targetPrice: -1 }, [{ path: ['input', 'targetPrice'], message: 'Target price must be greater than 0' }]],
    ['zero target', { ...threshold, targetPrice: 0 }, [{ path: ['input', 'targetPrice'], message: 'Target price must be greater than 0' }]],
    ['huge target', { ...threshold, targetPrice: 1e15 }, [{ path: ['input', 'targetPrice'], message: 'Target price must be at most 1,000,000,000' }]],
    ['missing targetSignal', { alertType: 'SIGNAL_CHANGE', ticker: 'AAPL', direction: 'ABOVE' }, [
      { path: ['input', 'targetSignal'], message: 'targetSignal is required for SIGNAL_CHANGE alerts' },
      { path: ['input', 'direction'], message: 'direction is not allowed for SIGNAL_CHANGE alerts' },
    ]],
    ['zero threshold', { alertType: 'PRICE_CHANGE_PERCENT', ticker: 'AAPL', thresholdPercent: 0 }, [
      { path: ['input', 'thresholdPercent'], message: 'Threshold percent must be greater than 0' },
    ]],
    ['huge threshold', { alertType: 'PRICE_CHANGE_PERCENT', ticker: 'AAPL', thresholdPercent: 1001 }, [
      { path: ['input', 'thresholdPercent'], message: 'Threshold percent must be at most 1,000' },
    ]],
    ['lower-case ticker', { ...threshold, ticker: 'aapl' }, [
      { path: ['input', 'ticker'], message: "Ticker must be an upper-case symbol of 1–10 letters, digits, '.' or '-'" },
    ]],
    ['11-character ticker', { ...threshold, ticker: 'ABCDEFGHIJK' }, [
      { path: ['input', 'ticker'], message: "Ticker must be an upper-case symbol of 1–10 letters, digits, '.' or '-'" },
    ]],
    ['empty ticker', { ...threshold, ticker: '' }, [
      { path: ['input', 'ticker'], message: "Ticker must be an upper-case symbol of 1–10 letters, digits, '.' or '-'" },
    ]],
    ['unknown ticker', { ...threshold, ticker: 'ZZZZ' }, [
      { path: ['input', 'ticker'], message: 'Unknown ticker ZZZZ: the quote source has no quote for it' },
    ]],
  ];

  it.each(cases)('%s', async (_name, input, fields) => {
    const { apiKey, userId } = await t.register();
    const result = await create(apiKey, input);
    expect(result).toEqual({ __typename: 'ValidationError', message: expect.any(String), fields });
    expect(await storedCount(userId)).toBe(0);
  });

  it.each([['NaN', 'NaN'], ['Infinity', 'Infinity'], ['a string', 'abc']])(
    'a %s target is refused by GraphQL before any rule runs',
    async (_name, targetPrice) => {
      const { apiKey, userId } = await t.register();
      const res = await t.gql(CREATE, { apiKey, variables: { input: { ...threshold, targetPrice } } });
      expect(res.status).toBe(400);
      expect(res.body.errors![0]!.message).toMatch(/Float cannot represent/);
      expect(await storedCount(userId)).toBe(0);
    },
  );
});

describe('at most 10 alerts per user', () => {
  it('answers AlertLimitExceeded for the 11th', async () => {
    const { apiKey } = await t.register();
    for (let i = 0; i < 10; i++) expect((await create(apiKey, threshold)).__typename).toBe('CreateAlertSuccess');
    expect(await create(apiKey, threshold)).toEqual({
      __typename: 'AlertLimitExceeded',
      maxAlerts: 10,
      message: 'An account can have at most 10 alerts; delete one first',
    });
    const list = (await t.gql(LIST, { apiKey })).body.data!.alerts;
    expect(list).toMatchObject({ count: 10, maxAlerts: 10 });
    expect(list.alerts).toHaveLength(10);
  });

  it('holds when 20 creates arrive at once: exactly 10 succeed (three users at the same time)', async () => {
    const users = await Promise.all([t.register(), t.register(), t.register()]);
    const results = await Promise.all(
      users.map((u) => Promise.all(Array.from({ length: 20 }, () => create(u.apiKey, threshold)))),
    );
    for (const [i, user] of users.entries()) {
      const kinds = results[i]!.map((r) => r.__typename);
      expect(kinds.filter((k) => k === 'CreateAlertSuccess')).toHaveLength(10);
      expect(kinds.filter((k) => k === 'AlertLimitExceeded')).toHaveLength(10);
      expect(await storedCount(user.userId)).toBe(10);
    }
  });

  it('counts per user: another user can still create', async () => {
    const a = await t.register();
    const b = await t.register();
    await Promise.all(Array.from({ length: 10 }, () => create(a.apiKey, threshold)));
    expect((await create(b.apiKey, threshold)).__typename).toBe('CreateAlertSuccess');
  });
});

describe('alerts and deleteAlert', () => {
  it('lists the viewer’s alerts oldest first', async () => {
    const { apiKey } = await t.register();
    expect((await t.gql(LIST, { apiKey })).body.data!.alerts).toEqual({ count: 0, maxAlerts: 10, alerts: [] });
    const first = await create(apiKey, threshold);
    const second = await create(apiKey, { alertType: 'SIGNAL_CHANGE', ticker: 'AAPL', targetSignal: 'SELL' });
    const list = (await t.gql(LIST, { apiKey })).body.data!.alerts;
    expect(list.alerts.map((a: { id: string }) => a.id)).toEqual([first.alert.id, second.alert.id]);
  });

  it('deletes an alert, then reports AlertNotFound for it', async () => {
    const { apiKey } = await t.register();
    const { alert } = await create(apiKey, threshold);
    expect((await t.gql(DELETE, { apiKey, variables: { id: alert.id } })).body.data!.deleteAlert).toEqual({
      __typename: 'DeleteAlertSuccess',
      id: alert.id,
      message: 'Alert deleted successfully',
    });
    expect((await t.gql(LIST, { apiKey })).body.data!.alerts.count).toBe(0);
    expect((await t.gql(DELETE, { apiKey, variables: { id: alert.id } })).body.data!.deleteAlert).toEqual({
      __typename: 'AlertNotFound',
      id: alert.id,
      message: `Alert ${alert.id} was not found`,
    });
  });

  it.each(['not-a-uuid', '123', "1' or '1'='1", '00000000-0000-0000-0000-000000000000'])(
    'answers AlertNotFound (not a server error) for id %s',
    async (id) => {
      const { apiKey } = await t.register();
      const res = await t.gql(DELETE, { apiKey, variables: { id } });
      expect(res.body).toEqual({ data: { deleteAlert: { __typename: 'AlertNotFound', id, message: `Alert ${id} was not found` } } });
    },
  );

  it('keeps users apart: B neither lists nor deletes A’s alert', async () => {
    const a = await t.register('A');
    const b = await t.register('B');
    const { alert } = await create(a.apiKey, threshold);
    expect((await t.gql(LIST, { apiKey: b.apiKey })).body.data!.alerts.count).toBe(0);
    const res = await t.gql(DELETE, { apiKey: b.apiKey, variables: { id: alert.id } });
    expect(res.body.data!.deleteAlert.__typename).toBe('AlertNotFound');
    expect((await t.gql(LIST, { apiKey: a.apiKey })).body.data!.alerts.alerts.map((x: { id: string }) => x.id)).toEqual([alert.id]);
  });

  it('requires a key', async () => {
    const res = await t.gql(CREATE, { variables: { input: threshold } });
    expect(res.status).toBe(401);
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});
