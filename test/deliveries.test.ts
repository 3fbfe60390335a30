import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../src/db/tables.js';
import type { DeliveryWorker } from '../src/delivery/delivery-worker.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const DELETE = `mutation { deleteWebhook { __typename } }`;
const PING = `mutation { sendTestWebhook { __typename
  ... on SendTestWebhookSuccess { delivery { id status event url attempts nextAttemptAt attemptLog { number } } }
  ... on WebhookNotFound { message } } }`;
const REDELIVER = `mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { __typename
  ... on RedeliverWebhookDeliverySuccess { delivery { id status event payloadSummary attempts } }
  ... on DeliveryNotFound { message id }
  ... on WebhookNotFound { message } } }`;
const HISTORY = `query($status: DeliveryStatus) { webhookDeliveries(status: $status) {
  userId count maxRecords deliveries { id status event attempts } } }`;

let t: TestApp;
let receiver: Receiver;
let worker: DeliveryWorker;
beforeAll(async () => {
  t = await createTestApp({ env: { WEBHOOK_RETRY_BASE_MS: '10' } });
  receiver = await createReceiver((req) => ({ status: req.path === '/fail' ? 500 : 200 }));
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function userWithWebhook(url = receiver.url) {
  const user = await t.register();
  await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url } } });
  return user;
}
const ping = async (apiKey: string): Promise<string> => (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
const history = async (apiKey: string, status?: string) =>
  (await t.gql(HISTORY, { apiKey, variables: { status } })).body.data!.webhookDeliveries;

describe('webhookDeliveries (no worker running: deliveries stay PENDING)', () => {
  it('lists newest first with userId, count and maxRecords', async () => {
    const { apiKey, userId } = await userWithWebhook();
    const ids = [await ping(apiKey), await ping(apiKey), await ping(apiKey)];
    const result = await history(apiKey);
    expect(result).toMatchObject({ userId, count: 3, maxRecords: 50 });
    expect(result.deliveries.map((d: { id: string }) => d.id)).toEqual(ids.reverse());
    expect(result.deliveries[0]).toMatchObject({ status: 'PENDING', event: 'webhook.ping', attempts: 0 });
  });

  it('keeps only the 50 newest: 55 finished deliveries → the 50 newest', async () => {
    const { apiKey, userId } = await userWithWebhook();
    const ids: string[] = [];
    for (let i = 0; i < 54; i++) ids.push(await ping(apiKey));
    // Deleting the webhook finishes them (FAILED) without a worker.
    await t.gql(DELETE, { apiKey });
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    ids.push(await ping(apiKey));
    const result = await history(apiKey);
    expect(result.count).toBe(50);
    expect(result.deliveries.map((d: { id: string }) => d.id)).toEqual(ids.slice(5).reverse());
    const stored = await t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.userId, userId));
    expect(stored.map((d) => d.id).sort()).toEqual(ids.slice(5).sort());
  });

  it('a new delivery is PENDING, due now, with an empty attempt log', async () => {
    const { apiKey } = await userWithWebhook();
    const before = Date.now();
    const { delivery } = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook;
    expect(delivery).toMatchObject({ status: 'PENDING', event: 'webhook.ping', url: receiver.url, attempts: 0, attemptLog: [] });
    expect(Date.parse(delivery.nextAttemptAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('sendTestWebhook without a webhook → WebhookNotFound, and nothing is written', async () => {
    const { apiKey } = await t.register();
    expect((await t.gql(PING, { apiKey })).body.data!.sendTestWebhook).toEqual({
      __typename: 'WebhookNotFound',
      message: 'No webhook is configured for this account',
    });
    expect((await history(apiKey)).count).toBe(0);
  });

  it('keeps users apart: B sees none of A’s deliveries and cannot redeliver them', async () => {
    const a = await userWithWebhook();
    const b = await userWithWebhook();
    const aId = await ping(a.apiKey);
    const bId = await ping(b.apiKey);
    expect((await history(b.apiKey)).deliveries.map((d: { id: string }) => d.id)).toEqual([bId]);
    expect((await t.gql(REDELIVER, { apiKey: b.apiKey, variables: { id: aId } })).body.data!.redeliverWebhookDelivery).toEqual({
      __typename: 'DeliveryNotFound',
      message: `Delivery ${aId} was not found`,
      id: aId,
    });
    expect((await history(a.apiKey)).count).toBe(1);
  });

  it.each([['an unknown id', randomUUID()], ['a malformed id', 'not-a-uuid']])(
    'redeliver with %s → DeliveryNotFound',
    async (_name, id) => {
      const { apiKey } = await userWithWebhook();
      const res = await t.gql(REDELIVER, { apiKey, variables: { id } });
      expect(res.body).toEqual({
        data: { redeliverWebhookDelivery: { __typename: 'DeliveryNotFound', message: `Delivery ${id} was not found`, id } },
      });
    },
  );

  it('redeliver after the webhook was deleted → WebhookNotFound', async () => {
    const { apiKey } = await userWithWebhook();
    const id = await ping(apiKey);
    await t.gql(DELETE, { apiKey });
    expect((await t.gql(REDELIVER, { apiKey, variables: { id } })).body.data!.redeliverWebhookDelivery.__typename).toBe('WebhookNotFound');
  });

  it('needs an API key', async () => {
    const res = await t.gql(HISTORY);
    expect(res.status).toBe(401);
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('pending deliveries are never pruned', () => {
  it('55 pending deliveries are all kept, the history shows the newest 50, and all 55 are sent', async () => {
    const { apiKey, userId } = await userWithWebhook();
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) ids.push(await ping(apiKey));
    const stored = await t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.userId, userId));
    expect(stored.filter((d) => d.status === 'PENDING')).toHaveLength(55);
    const result = await history(apiKey);
    expect(result).toMatchObject({ count: 50, maxRecords: 50 });
    expect(result.deliveries.map((d: { id: string }) => d.id)).toEqual(ids.slice(5).reverse());
    expect((await history(apiKey, 'PENDING')).count).toBe(50);

    const sender = await t.startWorker();
    try {
      await eventually(() => {
        const received = new Set(receiver.requests.map((r) => r.headers['x-webhook-delivery']));
        expect(ids.filter((id) => !received.has(id))).toEqual([]);
      });
      await eventually(async () => expect((await history(apiKey, 'DELIVERED')).count).toBe(50));
    } finally {
      await sender.stop();
    }
  });
});

describe('with a worker', () => {
  beforeAll(async () => {
    worker = await t.startWorker();
  });

  it('filters by status', async () => {
    const { apiKey } = await userWithWebhook(receiver.url.replace('/hook', '/fail'));
    const failing = await ping(apiKey);
    await eventually(async () => expect((await history(apiKey, 'FAILED')).count).toBe(1));
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    const ok = await ping(apiKey);
    await eventually(async () => expect((await history(apiKey, 'DELIVERED')).deliveries.map((d: { id: string }) => d.id)).toEqual([ok]));
    expect((await history(apiKey, 'FAILED')).deliveries.map((d: { id: string }) => d.id)).toEqual([failing]);
    expect((await history(apiKey, 'PENDING')).count).toBe(0);
    expect((await history(apiKey)).count).toBe(2);
  });

  it('redelivers the same body as a new delivery with a new id', async () => {
    const { apiKey } = await userWithWebhook();
    const first = await ping(apiKey);
    await eventually(async () => expect((await history(apiKey, 'DELIVERED')).count).toBe(1));
    const original = receiver.requests.find((r) => r.headers['x-webhook-delivery'] === first)!;

    const result = (await t.gql(REDELIVER, { apiKey, variables: { id: first } })).body.data!.redeliverWebhookDelivery;
    expect(result).toMatchObject({
      __typename: 'RedeliverWebhookDeliverySuccess',
      delivery: { status: 'PENDING', event: 'webhook.ping', payloadSummary: 'Test ping', attempts: 0 },
    });
    const second = result.delivery.id;
    expect(second).not.toBe(first);
    const again = await eventually(() => {
      const found = receiver.requests.find((r) => r.headers['x-webhook-delivery'] === second);
      expect(found).toBeDefined();
      return found!;
    });
    expect(again.body).toBe(original.body);
    await eventually(async () =>
      expect((await history(apiKey)).deliveries.map((d: { id: string; status: string }) => [d.id, d.status])).toEqual([
        [second, 'DELIVERED'],
        [first, 'DELIVERED'],
      ]),
    );
  });

  it('a redelivery sends the same message: a new X-Webhook-Delivery, the original webhook-id, also when redelivered again', async () => {
    const user = await t.register();
    await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url: receiver.url, secret: 'same-message-secret' } } });
    const { apiKey } = user;
    const first = await ping(apiKey);
    const redeliver = async (id: string) => (await t.gql(REDELIVER, { apiKey, variables: { id } })).body.data!.redeliverWebhookDelivery.delivery.id as string;
    const sent = (id: string) =>
      eventually(() => {
        const found = receiver.requests.find((r) => r.headers['x-webhook-delivery'] === id);
        expect(found).toBeDefined();
        return found!.headers;
      });
    await sent(first);
    const second = await redeliver(first);
    await sent(second);
    const third = await redeliver(second);
    const headers = await Promise.all([first, second, third].map(sent));
    // Standard Webhooks: webhook-id is the same when a message is sent again; receivers de-duplicate by it.
    expect(headers.map((h) => h['webhook-id'])).toEqual([first, first, first]);
    expect(new Set([first, second, third]).size).toBe(3);
    const listed = await t.gql(`{ webhookDeliveries { deliveries { id messageId } } }`, { apiKey });
    expect(listed.body.data!.webhookDeliveries.deliveries).toEqual([
      { id: third, messageId: first },
      { id: second, messageId: first },
      { id: first, messageId: first },
    ]);
  });

  afterAll(() => worker.stop());
});
