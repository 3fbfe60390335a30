import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../src/app.js';
import { DELIVERY_CHANGED_CHANNEL } from '../src/delivery/delivery-events.js';
import type { DeliveryWorker } from '../src/delivery/delivery-worker.js';
import { createLogger } from '../src/logger.js';
import { buildAlertsTriggeredPayload } from '../src/modules/alerts/alert-payloads.js';
import { createSecretBox } from '../src/modules/webhooks/secret-box.js';
import { manualClock } from './helpers/clock.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { __typename
  ... on SendTestWebhookSuccess { delivery { id event status url payloadSummary attempts maxAttempts createdAt } }
  ... on WebhookNotFound { message } } }`;
const HISTORY = `{ webhookDeliveries { deliveries { id event status httpStatus attempts failureReason failureKind completedAt
  attemptLog { number httpStatus error failureKind durationMs startedAt } } } }`;

const SIGNATURE_HEADERS = ['x-webhook-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];

// Stands at the real time (receivers check webhook-timestamp against theirs), so sent_at is exact.
const clock = manualClock(new Date());
let t: TestApp;
let receiver: Receiver;
let worker: DeliveryWorker | undefined;
beforeAll(async () => {
  t = await createTestApp({ clock });
});
afterAll(() => t.close());
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await receiver?.close();
});

async function userWithWebhook(url: string, secret?: string) {
  const user = await t.register();
  const res = await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url, secret } } });
  expect(res.body.data!.setWebhook.__typename).toBe('SetWebhookSuccess');
  return user;
}

const delivered = (apiKey: string, id: string) =>
  eventually(async () => {
    const res = await t.gql(HISTORY, { apiKey });
    const delivery = res.body.data!.webhookDeliveries.deliveries.find((d: { id: string }) => d.id === id);
    expect(delivery.status).toBe('DELIVERED');
    return delivery;
  });

const independentHmac = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex')}`;

describe('a signed delivery', () => {
  it('sends the exact ping body and headers, signed both ways, and ends DELIVERED', async () => {
    receiver = await createReceiver();
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const { apiKey, userId } = await userWithWebhook(receiver.url, secret);
    worker = await t.startWorker();

    const ping = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook;
    expect(ping).toMatchObject({
      __typename: 'SendTestWebhookSuccess',
      delivery: { event: 'webhook.ping', status: 'PENDING', url: receiver.url, payloadSummary: 'Test ping', attempts: 0, maxAttempts: 3 },
    });
    const id = ping.delivery.id;
    const [request] = await receiver.waitFor(1);
    const body = request!.body;
    const sentAt = JSON.parse(body).sent_at as string;
    expect(body).toBe(`{"event":"webhook.ping","user_id":"${userId}","sent_at":"${sentAt}"}`);
    expect(sentAt).toBe(clock.now().toISOString());

    const h = request!.headers;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/hook');
    expect(h['content-type']).toBe('application/json');
    expect(h['user-agent']).toBe('Alertwire/0.1.0');
    expect(h['x-webhook-event']).toBe('webhook.ping');
    expect(h['x-webhook-delivery']).toBe(id);
    expect(h['x-webhook-signature']).toBe(independentHmac(secret, body));
    expect(h['webhook-id']).toBe(id);
    expect(h['webhook-timestamp']).toBe(String(Math.floor(clock.now().getTime() / 1000)));
    expect(h['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verified = new Webhook(secret).verify(body, h as Record<string, string>);
    expect(verified).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(body.replace('ping', 'pong'), h as Record<string, string>)).toThrow();

    const done = await delivered(apiKey, id);
    expect(done).toMatchObject({ httpStatus: 200, attempts: 1, failureReason: null, failureKind: null });
    expect(done.completedAt).not.toBeNull();
    expect(done.attemptLog).toEqual([
      expect.objectContaining({ number: 1, httpStatus: 200, error: null, failureKind: null }),
    ]);
  });

  it('uses the UTF-8 bytes of a secret without the whsec_ prefix as the Standard Webhooks key', async () => {
    receiver = await createReceiver();
    const secret = 'plain-sécret';
    const { apiKey } = await userWithWebhook(receiver.url, secret);
    worker = await t.startWorker();
    await t.gql(PING, { apiKey });
    const [request] = await receiver.waitFor(1);
    const headers = request!.headers as Record<string, string>;
    expect(headers['x-webhook-signature']).toBe(independentHmac(secret, request!.body));
    const raw = new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
    expect(raw.verify(request!.body, headers)).toMatchObject({ event: 'webhook.ping' });
  });

  it('sends no signature headers without a secret', async () => {
    receiver = await createReceiver();
    const { apiKey } = await userWithWebhook(receiver.url);
    worker = await t.startWorker();
    const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
    const [request] = await receiver.waitFor(1);
    for (const name of SIGNATURE_HEADERS) expect(request!.headers).not.toHaveProperty(name);
    expect(request!.headers['x-webhook-delivery']).toBe(id);
    await delivered(apiKey, id);
  });

  it('signs with the secret current at send time, not the one when it was queued', async () => {
    receiver = await createReceiver();
    const { apiKey } = await userWithWebhook(receiver.url, 'old-secret');
    const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'new-secret' } } });
    worker = await t.startWorker();
    const [request] = await receiver.waitFor(1);
    expect(request!.headers['x-webhook-delivery']).toBe(id);
    expect(request!.headers['x-webhook-signature']).toBe(independentHmac('new-secret', request!.body));
  });
});

describe('a secret the worker cannot decrypt', () => {
  it('ends the delivery FAILED at once, saying which keys to check, and publishes the change', async () => {
    receiver = await createReceiver();
    const { apiKey } = await userWithWebhook(receiver.url, 'sealed-with-a-key-the-worker-lacks');
    const changes: { id: string; status: string; failureReason: string | null }[] = [];
    const unlisten = await t.database.listen(DELIVERY_CHANGED_CHANNEL, (payload) => changes.push(JSON.parse(payload)));
    try {
      const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
      worker = await t.startWorker({ secretBox: createSecretBox(randomBytes(32)) });
      const reason =
        'The webhook secret cannot be decrypted with the configured keys (SECRET_ENCRYPTION_KEY / SECRET_ENCRYPTION_KEY_PREVIOUS)';
      const failed = await eventually(async () => {
        const res = await t.gql(HISTORY, { apiKey });
        const delivery = res.body.data!.webhookDeliveries.deliveries.find((d: { id: string }) => d.id === id);
        expect(delivery.status).toBe('FAILED');
        return delivery;
      });
      expect(failed).toMatchObject({ attempts: 0, httpStatus: null, failureKind: null, failureReason: reason, attemptLog: [] });
      expect(failed.completedAt).not.toBeNull();
      await eventually(() => expect(changes).toContainEqual(expect.objectContaining({ id, status: 'FAILED', failureReason: reason })));
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await unlisten();
    }
  });
});

describe('the alerts.triggered payload', () => {
  const services = () =>
    createServices({
      database: t.database,
      config: t.config,
      clock,
      logger: createLogger('silent'),
      secretBox: t.secretBox,
    });
  const createdAt = new Date('2026-02-15T13:00:00.000Z');
  const evaluatedAt = new Date('2026-02-15T14:00:00.000Z');
  const aapl = { id: randomUUID(), alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', createdAt, targetPrice: 200, direction: 'ABOVE', targetSignal: null, thresholdPercent: null, baselinePrice: null };
  const tsla = { id: randomUUID(), alertType: 'SIGNAL_CHANGE', ticker: 'TSLA', createdAt, targetSignal: 'BUY' };
  const msft = { id: randomUUID(), alertType: 'PRICE_CHANGE_PERCENT', ticker: 'MSFT', createdAt, thresholdPercent: 5, baselinePrice: 400 };
  const evaluations = [
    { alert: aapl, triggered: true, currentValue: '215.30', details: 'AAPL 215.30 is above 200.00', error: null, evaluatedAt },
    { alert: msft, triggered: false, currentValue: '401.00', details: 'MSFT moved 0.25%', error: null, evaluatedAt },
    { alert: tsla, triggered: true, currentValue: 'BUY', details: 'TSLA signal is BUY', error: null, evaluatedAt },
  ];

  it('carries only the triggered alerts, in snake_case, with the summary', async () => {
    receiver = await createReceiver();
    const { apiKey, userId } = await userWithWebhook(receiver.url, 'k');
    worker = await t.startWorker();
    const delivery = await services().deliveries.enqueue(userId, buildAlertsTriggeredPayload(userId, evaluations, evaluatedAt));
    expect(delivery).toMatchObject({
      event: 'alerts.triggered',
      status: 'PENDING',
      payloadSummary: '2 triggered alerts (AAPL PRICE_THRESHOLD, TSLA SIGNAL_CHANGE)',
      attemptLog: [],
    });
    const [request] = await receiver.waitFor(1);
    expect(request!.headers['x-webhook-event']).toBe('alerts.triggered');
    expect(request!.body).toBe(
      JSON.stringify({
        event: 'alerts.triggered',
        user_id: userId,
        triggered_alerts: [
          {
            alert: { id: aapl.id, alert_type: 'PRICE_THRESHOLD', ticker: 'AAPL', created_at: '2026-02-15T13:00:00.000Z', target_price: 200, direction: 'ABOVE' },
            triggered: true,
            current_value: '215.30',
            details: 'AAPL 215.30 is above 200.00',
            evaluated_at: '2026-02-15T14:00:00.000Z',
          },
          {
            alert: { id: tsla.id, alert_type: 'SIGNAL_CHANGE', ticker: 'TSLA', created_at: '2026-02-15T13:00:00.000Z', target_signal: 'BUY' },
            triggered: true,
            current_value: 'BUY',
            details: 'TSLA signal is BUY',
            evaluated_at: '2026-02-15T14:00:00.000Z',
          },
        ],
        triggered_count: 2,
        evaluated_at: '2026-02-15T14:00:00.000Z',
      }),
    );
    await delivered(apiKey, delivery!.id);
  });

  it('is kept as SKIPPED, not sent, while the webhook is disabled; the caller is told nothing was enqueued', async () => {
    receiver = await createReceiver(() => ({ status: 410 }));
    const { apiKey, userId } = await userWithWebhook(receiver.url, 'k');
    worker = await t.startWorker();
    await t.gql(PING, { apiKey });
    await eventually(async () => expect((await t.gql(`{ webhook { isActive } }`, { apiKey })).body.data!.webhook.isActive).toBe(false));

    expect(await services().deliveries.enqueue(userId, buildAlertsTriggeredPayload(userId, evaluations, evaluatedAt))).toBeNull();
    const history = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
    expect(history.map((d: { event: string; status: string }) => [d.event, d.status])).toEqual([
      ['alerts.triggered', 'SKIPPED'],
      ['webhook.ping', 'FAILED'],
    ]);
    expect(history[0]).toMatchObject({ attempts: 0, attemptLog: [] });
    expect(receiver.requests.map((r) => r.headers['x-webhook-event'])).toEqual(['webhook.ping']);
  });
});
