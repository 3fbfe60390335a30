import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../src/db/tables.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';

const ADMIN_KEY = 'admin-key-0123456789';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CHECK = `{ triggeredAlerts {
  summary { triggeredCount }
  delivery { id status event attempts payloadSummary url }
} }`;

let t: TestApp;
let receiver: Receiver;
beforeAll(async () => {
  t = await createTestApp({
    // A send may take far longer than a test may: only the query's own answer can end the wait below.
    env: { ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_RETRY_BASE_MS: '10', WEBHOOK_TIMEOUT_MS: '120000', DELIVERY_LEASE_MS: '180000' },
  });
  receiver = await createReceiver();
  await t.gql(`mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`, {
    apiKey: ADMIN_KEY,
    variables: { input: [{ ticker: 'AAPL', price: 215.3 }, { ticker: 'TSLA', price: 180 }] },
  });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function userWithAlerts(url?: string) {
  const user = await t.register();
  const alert = (input: Record<string, unknown>) =>
    t.gql(`mutation($input: CreateAlertInput!) { createAlert(input: $input) { __typename } }`, {
      apiKey: user.apiKey,
      variables: { input },
    });
  await alert({ alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: 200, direction: 'ABOVE' });
  await alert({ alertType: 'PRICE_THRESHOLD', ticker: 'TSLA', targetPrice: 100, direction: 'BELOW' });
  if (url) {
    const set = await t.gql(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, {
      apiKey: user.apiKey,
      variables: { input: { url, secret: SECRET } },
    });
    expect(set.body.data!.setWebhook.__typename).toBe('SetWebhookSuccess');
  }
  return user;
}

describe('triggeredAlerts and delivery', () => {
  it('enqueues one alerts.triggered delivery with only the triggered alerts, and the worker delivers it signed', async () => {
    const { apiKey, userId } = await userWithAlerts(`${receiver.url}/alerts`);
    const res = await t.gql(CHECK, { apiKey });
    const report = res.body.data!.triggeredAlerts;
    expect(report.summary.triggeredCount).toBe(1);
    expect(report.delivery).toMatchObject({
      status: 'PENDING',
      event: 'alerts.triggered',
      attempts: 0,
      payloadSummary: '1 triggered alert (AAPL PRICE_THRESHOLD)',
      url: `${receiver.url}/alerts`,
    });

    await t.startWorker();
    const [request] = await receiver.waitFor(1);
    expect(request!.headers['x-webhook-delivery']).toBe(report.delivery.id);
    expect(request!.headers['x-webhook-signature']).toBe(
      `sha256=${createHmac('sha256', SECRET).update(request!.body).digest('hex')}`,
    );
    const body = JSON.parse(request!.body);
    expect(body).toMatchObject({ event: 'alerts.triggered', user_id: userId, triggered_count: 1 });
    expect(body.triggered_alerts).toHaveLength(1);
    expect(body.triggered_alerts[0]).toMatchObject({
      alert: { alert_type: 'PRICE_THRESHOLD', ticker: 'AAPL', target_price: 200, direction: 'ABOVE' },
      triggered: true,
      current_value: '215.30',
      details: 'AAPL current price $215.30 is above target $200.00',
    });
  });

  it('creates no delivery when nothing triggered', async () => {
    const user = await t.register();
    await t.gql(`mutation { setWebhook(input: { url: "${receiver.url}/none" }) { __typename } }`, { apiKey: user.apiKey });
    await t.gql(
      `mutation { createAlert(input: { alertType: PRICE_THRESHOLD, ticker: "AAPL", targetPrice: 900, direction: ABOVE }) { __typename } }`,
      { apiKey: user.apiKey },
    );
    const report = (await t.gql(CHECK, { apiKey: user.apiKey })).body.data!.triggeredAlerts;
    expect(report).toEqual({ summary: { triggeredCount: 0 }, delivery: null });
    const rows = await t.database.db.select().from(webhookDeliveries);
    expect(rows.filter((r) => r.userId === user.userId)).toEqual([]);
  });

  it('creates no delivery when there is no webhook', async () => {
    const user = await userWithAlerts();
    const report = (await t.gql(CHECK, { apiKey: user.apiKey })).body.data!.triggeredAlerts;
    expect(report.summary.triggeredCount).toBe(1);
    expect(report.delivery).toBeNull();
    const rows = await t.database.db.select().from(webhookDeliveries);
    expect(rows.filter((r) => r.userId === user.userId)).toEqual([]);
  });

  it('answers while the receiver still holds the request: the query never waits for delivery', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const hanging = await createReceiver(() => ({ status: 200, until: held }));
    try {
      const { apiKey } = await userWithAlerts(hanging.url);
      await t.startWorker();
      const answered = t.gql(CHECK, { apiKey });
      await hanging.waitFor(1);
      // The receiver has the request and will not answer before release(), and a send may wait
      // WEBHOOK_TIMEOUT_MS (far beyond the test's timeout): a query that waited for it never answers.
      const res = await answered;
      const delivery = res.body.data!.triggeredAlerts.delivery;
      expect(delivery).toMatchObject({ status: 'PENDING', attempts: 0 });
      expect(hanging.requests.map((r) => r.headers['x-webhook-delivery'])).toEqual([delivery.id]);
      const [stored] = await t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, delivery.id));
      expect(stored).toMatchObject({ status: 'PENDING', attempts: 0 });

      release();
      await eventually(async () => {
        const [row] = await t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, delivery.id));
        expect(row).toMatchObject({ status: 'DELIVERED', attempts: 1 });
      });
    } finally {
      release();
      await hanging.close();
    }
  });
});
