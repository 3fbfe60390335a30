import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movableClock } from './helpers/clock.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id status } } } }`;
const HISTORY = `{ webhookDeliveries { deliveries { id status event } } }`;
const RECOVER = `mutation($since: DateTime!) { redeliverFailedDeliveries(since: $since) { __typename
  ... on RedeliverFailedDeliveriesSuccess { count deliveries { id status event messageId } }
  ... on WebhookNotFound { message } } }`;

const clock = movableClock();
let t: TestApp;
let receiver: Receiver;
let status = 200;
beforeAll(async () => {
  t = await createTestApp({ clock, env: { WEBHOOK_MAX_ATTEMPTS: '1' } });
  receiver = await createReceiver(() => ({ status }));
  await t.startWorker();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function ping(apiKey: string, expected: string) {
  const delivery = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery;
  if (expected === 'SKIPPED') return expect(delivery.status).toBe('SKIPPED');
  await eventually(async () => {
    const deliveries = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
    expect(deliveries.find((d: { id: string }) => d.id === delivery.id).status).toBe(expected);
  });
}

describe('redeliverFailedDeliveries', () => {
  it('sends every FAILED (and SKIPPED) delivery since the time again, as new deliveries', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    status = 500;
    await ping(apiKey, 'FAILED'); // before `since`: left alone
    clock.advance(60_000);
    const since = clock.now().toISOString();
    await ping(apiKey, 'FAILED');
    status = 200;
    await ping(apiKey, 'DELIVERED');
    status = 410; // disables the webhook at once
    await ping(apiKey, 'FAILED');
    await eventually(async () => expect((await t.gql(`{ webhook { isActive } }`, { apiKey })).body.data!.webhook.isActive).toBe(false));
    await ping(apiKey, 'SKIPPED');
    await t.gql(`mutation { enableWebhook { __typename } }`, { apiKey });

    status = 200;
    const sentBefore = receiver.requests.length;
    // Newest first; the oldest is from before `since`.
    const listed = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries as { id: string; status: string }[];
    const originals = listed.slice(0, -1).filter((d) => d.status !== 'DELIVERED').map((d) => d.id);
    const res = (await t.gql(RECOVER, { apiKey, variables: { since } })).body.data!.redeliverFailedDeliveries;
    expect(res.__typename).toBe('RedeliverFailedDeliveriesSuccess');
    expect(res.count).toBe(3);
    // Each sends its original's message again: the same webhook-id.
    expect(res.deliveries.map((d: { messageId: string }) => d.messageId).sort()).toEqual([...originals].sort());
    expect(res.deliveries.map((d: { status: string }) => d.status)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    await receiver.waitFor(sentBefore + 3);
    await eventually(async () => {
      const deliveries = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
      const recovered = deliveries.filter((d: { id: string }) => res.deliveries.some((r: { id: string }) => r.id === d.id));
      expect(recovered.map((d: { status: string }) => d.status)).toEqual(['DELIVERED', 'DELIVERED', 'DELIVERED']);
    });
    expect(receiver.requests.length).toBe(sentBefore + 3);
  });

  // A message is what a receiver gets (webhook-id); its redeliveries are the same message.
  it('sends each failed message once: not one delivered since by a redelivery, nor one on its way', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    clock.advance(60_000);
    const since = clock.now().toISOString();
    status = 500;
    await ping(apiKey, 'FAILED');
    await ping(apiKey, 'FAILED');
    const [second, first] = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries as { id: string }[];
    const redeliver = async (id: string, expected: string) => {
      const again = await t.gql(`mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { ... on RedeliverWebhookDeliverySuccess { delivery { id } } } }`, {
        apiKey,
        variables: { id },
      });
      const redelivered = again.body.data!.redeliverWebhookDelivery.delivery.id as string;
      await eventually(async () => {
        const deliveries = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
        expect(deliveries.find((d: { id: string }) => d.id === redelivered).status).toBe(expected);
      });
    };
    await redeliver(second!.id, 'FAILED'); // the second message has failed twice now
    status = 200;
    await redeliver(first!.id, 'DELIVERED'); // the first one reached the receiver since

    const sentBefore = receiver.requests.length;
    const res = (await t.gql(RECOVER, { apiKey, variables: { since } })).body.data!.redeliverFailedDeliveries;
    expect(res.count).toBe(1);
    expect(res.deliveries.map((d: { messageId: string }) => d.messageId)).toEqual([second!.id]);
    // Again at once: that message is on its way (or delivered by now), so nothing more is sent.
    const again = (await t.gql(RECOVER, { apiKey, variables: { since } })).body.data!.redeliverFailedDeliveries;
    expect(again.count).toBe(0);
    await receiver.waitFor(sentBefore + 1);
    await eventually(async () => {
      const deliveries = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
      expect(deliveries.find((d: { id: string }) => d.id === res.deliveries[0].id).status).toBe('DELIVERED');
    });
    expect((await t.gql(RECOVER, { apiKey, variables: { since } })).body.data!.redeliverFailedDeliveries.count).toBe(0);
    expect(receiver.requests.length).toBe(sentBefore + 1);
  });

  it('while the webhook is disabled: an empty success, nothing sent, the history unchanged', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    const since = clock.now().toISOString();
    status = 410; // disables the webhook at once
    await ping(apiKey, 'FAILED');
    await eventually(async () => expect((await t.gql(`{ webhook { isActive } }`, { apiKey })).body.data!.webhook.isActive).toBe(false));
    await ping(apiKey, 'SKIPPED');
    const before = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
    expect(before.map((d: { status: string }) => d.status).sort()).toEqual(['FAILED', 'SKIPPED']);

    const sentBefore = receiver.requests.length;
    const res = (await t.gql(RECOVER, { apiKey, variables: { since } })).body.data!.redeliverFailedDeliveries;
    expect(res).toEqual({ __typename: 'RedeliverFailedDeliveriesSuccess', count: 0, deliveries: [] });
    expect((await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries).toEqual(before);
    expect(receiver.requests.length).toBe(sentBefore);
    status = 200;
  });

  it('answers WebhookNotFound without a webhook, and an empty list when nothing failed', async () => {
    const { apiKey } = await t.register();
    const since = new Date(0).toISOString();
    expect((await t.gql(RECOVER, { apiKey, variables: { since } })).body.data!.redeliverFailedDeliveries).toEqual({
      __typename: 'WebhookNotFound',
      message: 'No webhook is configured for this account',
    });
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    expect((await t.gql(RECOVER, { apiKey, variables: { since } })).body.data!.redeliverFailedDeliveries).toEqual({
      __typename: 'RedeliverFailedDeliveriesSuccess',
      count: 0,
      deliveries: [],
    });
  });

  it('refuses a since that is not a date-time', async () => {
    const { apiKey } = await t.register();
    const res = await t.gql(RECOVER, { apiKey, variables: { since: 'yesterday' } });
    expect(res.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });
});
