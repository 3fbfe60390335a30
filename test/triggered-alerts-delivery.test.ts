import { createHmac } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../src/db/tables.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { createReceiver, type Receiver } from './helpers/receiver.js';

const ADMIN_KEY = 'admin-key-0123456789';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const CHECK = `{ triggeredAlerts {
  summary { triggeredCount }
  delivery { id status event attempts payloadSummary url }
} }`;

let t: TestApp;
let receiver: Receiver;
beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_RETRY_BASE_MS: '10' } });
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

  it('answers while the receiver hangs: the receiver is released only after the query answered', async () => {
    const events: string[] = [];
    const held: ServerResponse[] = [];
    const hanging = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        events.push('receiver got the request');
        held.push(res);
      });
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hanging.address() as AddressInfo).port;
      const { apiKey } = await userWithAlerts(`http://127.0.0.1:${port}/hang`);
      // A worker is running (started above), so the delivery is sent while the query is in flight.
      const res = await t.gql(CHECK, { apiKey });
      events.push('query answered');
      expect(res.body.data!.triggeredAlerts.delivery.status).toBe('PENDING');
      while (held.length === 0) await new Promise((r) => setTimeout(r, 5));
      for (const r of held) r.end('ok');
      events.push('receiver answered');
      expect(events.indexOf('query answered')).toBeLessThan(events.indexOf('receiver answered'));
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});
