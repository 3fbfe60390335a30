import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../src/db/tables.js';
import type { Database } from '../src/db/client.js';
import { STRICT_BUDGETS } from '../src/rate-limit/budgets.js';
import { manualClock } from './helpers/clock.js';
import { createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';
import { createTestApp, type TestApp, type TestAppOptions } from './helpers/test-app.js';

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { apiKey } }`;
const registerInput = () => ({ input: { name: 'Rate', email: `rate-${randomUUID()}@example.com` } });

// Each test builds its own app, and so its own in-memory budgets.
let source: TestDatabaseSource;
let warm: Database;
const apps: TestApp[] = [];
beforeAll(async () => {
  source = await createTestDatabaseSource();
  // Opened here, under the hook's timeout: the first case's app then costs no database start.
  warm = await source.open();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await warm.close();
  await source.destroy();
});

// Time stands still unless a test moves it: a window never loses a second to a slow machine.
async function appWith(options: TestAppOptions): Promise<TestApp> {
  const app = await createTestApp({ clock: manualClock(), ...options, source });
  apps.push(app);
  return app;
}

describe('the default budget (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW, per account and root field)', () => {
  it('answers RATE_LIMITED with retryAfter, HTTP 429 and Retry-After once the budget is spent', async () => {
    const t = await appWith({ env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1m' } });
    const { apiKey } = await t.register();
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.gql(`{ viewer { id } }`, { apiKey });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe('3');
      remaining.push(res.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const over = await t.gql(`{ viewer { id } }`, { apiKey });
    expect(over.status).toBe(429);
    expect(over.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    expect(over.body.errors![0]!.message).toMatch(/budget is 3 per minute/);
    expect(over.headers.get('retry-after')).toBe('60');
    expect(over.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(over.headers.get('x-ratelimit-reset')).toBe('60');
  });

  it('keeps a budget per root field and per key', async () => {
    const t = await appWith({ env: { RATE_LIMIT_MAX: '2' } });
    const a = await t.register();
    const b = await t.register();
    for (let i = 0; i < 2; i++) await t.gql(`{ viewer { id } }`, { apiKey: a.apiKey });
    expect((await t.gql(`{ viewer { id } }`, { apiKey: a.apiKey })).status).toBe(429);
    expect((await t.gql(`{ webhook { url } }`, { apiKey: a.apiKey })).body).toEqual({ data: { webhook: null } });
    expect((await t.gql(`{ viewer { id } }`, { apiKey: b.apiKey })).body.data!.viewer.id).toBe(b.userId);
  });

  it('frees a call when the oldest one leaves the sliding window', async () => {
    const clock = manualClock();
    const t = await appWith({ clock, env: { RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW: '10s' } });
    const { apiKey } = await t.register();
    await t.gql(`{ viewer { id } }`, { apiKey });
    clock.advance(4_000);
    await t.gql(`{ viewer { id } }`, { apiKey });
    const over = await t.gql(`{ viewer { id } }`, { apiKey });
    expect(over.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 6 });
    clock.advance(6_000);
    const again = await t.gql(`{ viewer { id } }`, { apiKey });
    expect(again.status).toBe(200);
    expect(again.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(again.headers.get('x-ratelimit-reset')).toBe('4');
  });
});

describe('one operation, several root fields', () => {
  it('charges each alias: 12 aliased calls spend 12, and the 2 over a budget of 10 are refused', async () => {
    const t = await appWith({ env: { RATE_LIMIT_MAX: '10' } });
    const { apiKey } = await t.register();
    const query = `{ ${Array.from({ length: 12 }, (_, i) => `w${i}: webhook { url }`).join(' ')} }`;
    const res = await t.gql(query, { apiKey });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.data!)).toHaveLength(12);
    const refused = res.body.errors!.filter((e) => e.extensions?.code === 'RATE_LIMITED');
    expect(refused.map((e) => e.path![0])).toEqual(['w10', 'w11']);
    expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await t.gql(`{ webhook { url } }`, { apiKey })).status).toBe(429);
  });

  it('reports the most constrained field in the X-RateLimit-* headers', async () => {
    const t = await appWith({ env: { RATE_LIMIT_MAX: '5' } });
    const { apiKey } = await t.register();
    for (let i = 0; i < 3; i++) await t.gql(`{ webhook { url } }`, { apiKey });
    const res = await t.gql(`{ viewer { id } webhook { url } }`, { apiKey });
    expect(res.headers.get('x-ratelimit-limit')).toBe('5');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('1');
  });

  it('answers 200 when some root fields ran and others were over budget', async () => {
    const t = await appWith({ env: { RATE_LIMIT_MAX: '1' } });
    const { apiKey } = await t.register();
    await t.gql(`{ webhook { url } }`, { apiKey });
    const res = await t.gql(`{ viewer { id } webhook { url } }`, { apiKey });
    expect(res.status).toBe(200);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.body.errors!.map((e) => e.extensions!.code)).toEqual(['RATE_LIMITED']);
  });
});

describe('a mutation with several root fields', () => {
  const SET_WEBHOOK = `mutation { setWebhook(input: { url: "https://example.com/hook" }) { __typename } }`;

  it('runs none of them when one is over its budget, and answers 429: nothing changed, nothing hidden', async () => {
    const t = await appWith({ rateLimit: { fieldBudgets: { sendTestWebhook: { max: 1, windowMs: 60_000 } } } });
    const { apiKey } = await t.register();
    await t.gql(SET_WEBHOOK, { apiKey });
    expect((await t.gql(`mutation { sendTestWebhook { __typename } }`, { apiKey })).status).toBe(200);

    // deleteWebhook comes first and is within its budget; sendTestWebhook is not.
    const res = await t.gql(`mutation { deleteWebhook { __typename } sendTestWebhook { __typename } }`, { apiKey });
    expect(res.status).toBe(429);
    expect(res.body.data).toBeNull();
    expect(res.body.errors!.map((e) => e.extensions!.code)).toEqual(['RATE_LIMITED']);
    expect((await t.gql(`{ webhook { url } }`, { apiKey })).body.data).toEqual({ webhook: { url: 'https://example.com/hook' } });
  });

  it('charges aliases of one field together: two createAlert over a budget of one create neither', async () => {
    const t = await appWith({ rateLimit: { fieldBudgets: { createAlert: { max: 1, windowMs: 60_000 } } } });
    const { apiKey } = await t.register();
    const create = (alias: string) =>
      `${alias}: createAlert(input: { alertType: PRICE_THRESHOLD, ticker: "AAPL", targetPrice: 1, direction: ABOVE }) { __typename }`;
    const res = await t.gql(`mutation { ${create('a')} ${create('b')} }`, { apiKey });
    expect(res.status).toBe(429);
    expect((await t.gql(`{ alerts { count } }`, { apiKey })).body.data).toEqual({ alerts: { count: 0 } });
  });

  it('charges only the fields that run: one skipped by @skip costs nothing', async () => {
    const t = await appWith({ rateLimit: { fieldBudgets: { sendTestWebhook: { max: 1, windowMs: 60_000 } } } });
    const { apiKey } = await t.register();
    await t.gql(SET_WEBHOOK, { apiKey });
    const res = await t.gql(`mutation($skip: Boolean!) { ...Both }
      fragment Both on Mutation { deleteWebhook { __typename } sendTestWebhook @skip(if: $skip) { __typename } }`, {
      apiKey,
      variables: { skip: true },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ deleteWebhook: { __typename: 'DeleteWebhookSuccess' } });
    expect((await t.gql(`mutation { sendTestWebhook { __typename } }`, { apiKey })).status).toBe(200);
  });
});

describe('register: a budget per client address', () => {
  it('has a strict built-in budget of its own', async () => {
    const { max, windowMs } = STRICT_BUDGETS.register!;
    const t = await appWith({ rateLimit: {} });
    for (let i = 0; i < max; i++) {
      expect((await t.gql(REGISTER, { variables: registerInput() })).body.data?.register.apiKey).toBeTruthy();
    }
    const before = (await t.database.db.select().from(users)).length;
    const over = await t.gql(REGISTER, { variables: registerInput() });
    expect(over.status).toBe(429);
    expect(over.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: windowMs / 1000 });
    expect((await t.database.db.select().from(users)).length).toBe(before);
  });

  it('takes the address from X-Forwarded-For only with TRUST_PROXY=true, and then its last entry', async () => {
    const budget = { fieldBudgets: { register: { max: 1, windowMs: 60_000 } } };
    const from = (forwardedFor: string) => ({ variables: registerInput(), headers: { 'x-forwarded-for': forwardedFor } });

    const direct = await appWith({ rateLimit: budget });
    expect((await direct.gql(REGISTER, from('203.0.113.1'))).status).toBe(200);
    expect((await direct.gql(REGISTER, from('203.0.113.2'))).status).toBe(429);

    const proxied = await appWith({ rateLimit: budget, env: { TRUST_PROXY: 'true' } });
    expect((await proxied.gql(REGISTER, from('203.0.113.1'))).status).toBe(200);
    expect((await proxied.gql(REGISTER, from('203.0.113.2'))).status).toBe(200);
    expect((await proxied.gql(REGISTER, from('198.51.100.9, 203.0.113.2'))).status).toBe(429);
  });

  it('is exact under concurrency: 20 simultaneous calls against a budget of 5 → 5 succeed', async () => {
    const t = await appWith({ rateLimit: { fieldBudgets: { register: { max: 5, windowMs: 60_000 } } } });
    const results = await Promise.all(Array.from({ length: 20 }, () => t.gql(REGISTER, { variables: registerInput() })));
    expect(results.filter((r) => r.body.data?.register).length).toBe(5);
    expect(results.filter((r) => r.status === 429).length).toBe(15);
  });
});

describe('strict built-in budgets for calls that send HTTP requests', () => {
  it.each([
    ['sendTestWebhook', `mutation { sendTestWebhook { __typename } }`, {}],
    ['redeliverWebhookDelivery', `mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { __typename } }`, { id: randomUUID() }],
    ['triggeredAlerts', `{ triggeredAlerts { summary { triggeredCount } } }`, {}],
  ])('%s', async (field, query, variables) => {
    const { max } = STRICT_BUDGETS[field]!;
    const t = await appWith({ rateLimit: {} });
    const { apiKey } = await t.register();
    for (let i = 0; i < max; i++) {
      expect((await t.gql(query, { apiKey, variables })).body.errors).toBeUndefined();
    }
    const over = await t.gql(query, { apiKey, variables });
    expect(over.status).toBe(429);
    expect(over.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(over.body.errors![0]!.message).toContain(field);
  });
});

describe('budgets configured by RATE_LIMIT_FIELDS', () => {
  it('replaces a built-in budget and gives any other root field one of its own', async () => {
    const t = await appWith({ rateLimit: {}, env: { RATE_LIMIT_FIELDS: 'sendTestWebhook=2/1m, viewer=1/30s' } });
    const { apiKey } = await t.register();
    const ping = `mutation { sendTestWebhook { __typename } }`;
    for (let i = 0; i < 2; i++) expect((await t.gql(ping, { apiKey })).body.errors).toBeUndefined();
    const over = await t.gql(ping, { apiKey });
    expect(over.body.errors![0]!.message).toMatch(/^Too many sendTestWebhook calls: the budget is 2 per minute;/);
    expect((await t.gql(`{ viewer { id } }`, { apiKey })).body.errors).toBeUndefined();
    const viewer = await t.gql(`{ viewer { id } }`, { apiKey });
    expect(viewer.body.errors![0]!.message).toMatch(/^Too many viewer calls: the budget is 1 per 30 seconds;/);
    // Fields not named keep the default budget.
    expect((await t.gql(`{ alerts { count } }`, { apiKey })).body.errors).toBeUndefined();
  });
});

describe('graphql-rate-limit', () => {
  // Its own dependency range asks for @graphql-tools/utils 7 (graphql 14/15 only); package.json
  // overrides it, and the budgets above run on the copy it actually loads.
  it('loads a @graphql-tools/utils that supports the installed graphql', async () => {
    const { createRequire } = await import('node:module');
    const fromLimiter = createRequire(createRequire(import.meta.url).resolve('graphql-rate-limit'));
    const utils = fromLimiter('@graphql-tools/utils/package.json') as { peerDependencies: { graphql: string } };
    const { version } = fromLimiter('graphql/package.json') as { version: string };
    const { satisfies } = await import('semver');
    expect(satisfies(version, utils.peerDependencies.graphql)).toBe(true);
    expect(version).toMatch(/^16\./);
  });
});

describe('subscriptions', () => {
  it('charge their budget once, when subscribing', async () => {
    const t = await appWith({ env: { RATE_LIMIT_MAX: '1' } });
    const { apiKey } = await t.register();
    const controller = new AbortController();
    const subscribe = () =>
      t.app.fetch('http://127.0.0.1/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': apiKey },
        body: JSON.stringify({ query: `subscription { webhookDeliveryUpdated { id } }` }),
        signal: controller.signal,
      });
    try {
      const first = await subscribe();
      expect(first.headers.get('content-type')).toMatch(/text\/event-stream/);
      expect(first.headers.get('x-ratelimit-remaining')).toBe('0');
      const second = await subscribe();
      const text = await second.text();
      expect(text).toContain('"code":"RATE_LIMITED"');
    } finally {
      controller.abort();
    }
  });
});
