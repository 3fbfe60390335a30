import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteHistory, quotes } from '../src/db/tables.js';
import { HISTORY_LIMIT } from '../src/modules/quotes/quotes.repository.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const ADMIN_KEY = 'admin-key-0123456789';
const UPSERT = `mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`;
const QUOTE = `query($ticker: String!) { quote(ticker: $ticker) { ticker price asOf signal } }`;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });
});
afterAll(() => t.close());

const upsert = (input: unknown[], apiKey: string | undefined = ADMIN_KEY) => t.gql(UPSERT, { apiKey, variables: { input } });
const rowsOf = async (ticker: string) => ({
  latest: await t.database.db.select().from(quotes).where(eq(quotes.ticker, ticker)),
  history: await t.database.db.select().from(quoteHistory).where(eq(quoteHistory.ticker, ticker)),
});
const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString();

describe('upsertQuotes (admin only)', () => {
  it('records prices the quote query then returns', async () => {
    const res = await upsert([
      { ticker: 'QA', price: 215.3, asOf: '2026-02-15T14:00:00.000Z' },
      { ticker: 'QB.X', price: 0.5 },
    ]);
    expect(res.body).toEqual({ data: { upsertQuotes: { count: 2 } } });
    const { apiKey } = await t.register();
    const quote = await t.gql(QUOTE, { apiKey, variables: { ticker: 'QA' } });
    expect(quote.body.data!.quote).toEqual({ ticker: 'QA', price: 215.3, asOf: '2026-02-15T14:00:00.000Z', signal: null });
  });

  it('accepts the admin key as a Bearer token', async () => {
    const res = await t.gql(UPSERT, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
      variables: { input: [{ ticker: 'QBEARER', price: 1 }] },
    });
    expect(res.body.data!.upsertQuotes.count).toBe(1);
  });

  it('refuses a user key with FORBIDDEN and writes nothing', async () => {
    const { apiKey } = await t.register();
    const res = await upsert([{ ticker: 'QUSER', price: 10 }], apiKey);
    expect(res.status).toBe(403);
    expect(res.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(await rowsOf('QUSER')).toEqual({ latest: [], history: [] });
  });

  it.each([
    ['no key', undefined],
    ['an unknown key', 'aw_not-a-real-key'],
  ])('refuses %s with UNAUTHENTICATED and writes nothing', async (_name, apiKey) => {
    const res = await t.gql(UPSERT, { apiKey, variables: { input: [{ ticker: 'QANON', price: 10 }] } });
    expect(res.status).toBe(401);
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(await rowsOf('QANON')).toEqual({ latest: [], history: [] });
  });

  it('lets the admin key call nothing else', async () => {
    const res = await t.gql(`{ alerts { count } }`, { apiKey: ADMIN_KEY });
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors![0]!.message).toBe('The admin key may only call upsertQuotes');
  });

  it('rejects the whole batch when one point is invalid, naming each bad field', async () => {
    const res = await upsert([
      { ticker: 'QGOOD', price: 10 },
      { ticker: 'qlower', price: 10 },
      { ticker: 'QZERO', price: 0 },
      { ticker: 'QNEG', price: -5 },
      { ticker: 'QHUGE', price: 1e12 },
      { ticker: 'TOOLONGTICKER', price: 1 },
    ]);
    const error = res.body.errors![0]!;
    expect(error.extensions!.code).toBe('BAD_USER_INPUT');
    expect(error.extensions!.fields.map((f: { path: string[] }) => f.path)).toEqual([
      ['input', '1', 'ticker'],
      ['input', '2', 'price'],
      ['input', '3', 'price'],
      ['input', '4', 'price'],
      ['input', '5', 'ticker'],
    ]);
    expect(error.extensions!.fields[1].message).toBe('Price must be greater than 0');
    expect(await rowsOf('QGOOD')).toEqual({ latest: [], history: [] });
  });

  it('rejects a point dated in the future (it would pin the latest price)', async () => {
    const res = await upsert([{ ticker: 'QFUTURE', price: 1, asOf: '2999-01-01T00:00:00.000Z' }]);
    expect(res.body.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [{ path: ['input', '0', 'asOf'], message: 'asOf must not be in the future' }],
    });
    expect(await rowsOf('QFUTURE')).toEqual({ latest: [], history: [] });
  });

  it('rejects a non-finite price before it reaches the service', async () => {
    const res = await upsert([{ ticker: 'QNAN', price: 'NaN' }]);
    expect(res.status).toBe(400);
    expect(res.body.errors![0]!.message).toMatch(/Float cannot represent non numeric value/);
    expect(await rowsOf('QNAN')).toEqual({ latest: [], history: [] });
  });

  it('keeps the newest price when an older point arrives later, and still records its history', async () => {
    await upsert([{ ticker: 'QLATE', price: 20, asOf: day(2) }]);
    await upsert([{ ticker: 'QLATE', price: 10, asOf: day(1) }]);
    const { latest, history } = await rowsOf('QLATE');
    expect(latest.map((r) => r.price)).toEqual([20]);
    expect(history.map((r) => r.price).sort()).toEqual([10, 20]);
  });

  it(`keeps only the newest ${HISTORY_LIMIT} points of a ticker`, async () => {
    const points = Array.from({ length: HISTORY_LIMIT + 20 }, (_, i) => ({ ticker: 'QPRUNE', price: i + 1, asOf: day(i) }));
    expect((await upsert(points)).body.data!.upsertQuotes.count).toBe(HISTORY_LIMIT + 20);
    const { latest, history } = await rowsOf('QPRUNE');
    expect(history).toHaveLength(HISTORY_LIMIT);
    expect(Math.min(...history.map((r) => r.price))).toBe(21);
    expect(latest[0]!.price).toBe(HISTORY_LIMIT + 20);
  });
});

describe('quote(ticker)', () => {
  it('carries the signal once the history is long enough (15 rising prices → SELL)', async () => {
    const points = Array.from({ length: 15 }, (_, i) => ({ ticker: 'QRISE', price: 100 + i, asOf: day(i) }));
    await upsert(points.slice(0, 14));
    const { apiKey } = await t.register();
    expect((await t.gql(QUOTE, { apiKey, variables: { ticker: 'QRISE' } })).body.data!.quote.signal).toBeNull();
    await upsert(points.slice(14));
    const quote = (await t.gql(QUOTE, { apiKey, variables: { ticker: 'QRISE' } })).body.data!.quote;
    expect(quote).toMatchObject({ price: 114, signal: 'SELL', asOf: day(14) });
  });

  it('is null for a ticker the source does not know', async () => {
    const { apiKey } = await t.register();
    expect((await t.gql(QUOTE, { apiKey, variables: { ticker: 'NOPE' } })).body).toEqual({ data: { quote: null } });
  });

  it('rejects a malformed ticker with BAD_USER_INPUT', async () => {
    const { apiKey } = await t.register();
    const res = await t.gql(QUOTE, { apiKey, variables: { ticker: 'aapl' } });
    expect(res.body.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ path: ['ticker'] }] });
  });

  it('needs a key', async () => {
    const res = await t.gql(QUOTE, { variables: { ticker: 'QA' } });
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});
