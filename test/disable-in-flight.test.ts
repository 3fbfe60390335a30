import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;
const HISTORY = `{ webhookDeliveries { deliveries { id status attempts failureReason } } }`;

let t: TestApp;
let receiver: Receiver;
let release: () => void = () => {};
const held = new Promise<void>((resolve) => (release = resolve));
beforeAll(async () => {
  t = await createTestApp({ env: { WEBHOOK_MAX_ATTEMPTS: '1' } });
  // The first request is held until the test lets go; every later one answers 410 Gone.
  receiver = await createReceiver((_request, index) => (index === 0 ? { status: 200, until: held } : { status: 410 }));
  await t.startWorker();
});
afterAll(async () => {
  release();
  await receiver.close();
  await t.close();
});

describe('auto-disable while a delivery is being sent', () => {
  it('leaves a delivery a worker is sending under its lease to finish, and records its result', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    const inFlight = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
    await receiver.waitFor(1);

    // A second delivery gets a 410: the webhook is disabled while the first is still being sent.
    const gone = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
    await receiver.waitFor(2);
    await eventually(async () => expect((await t.gql(`{ webhook { isActive } }`, { apiKey })).body.data!.webhook.isActive).toBe(false));

    release();
    const deliveries = await eventually(async () => {
      const list = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
      expect(list.find((d: { id: string }) => d.id === inFlight)).toMatchObject({ status: 'DELIVERED', attempts: 1, failureReason: null });
      return list;
    });
    expect(deliveries.find((d: { id: string }) => d.id === gone)).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(receiver.requests).toHaveLength(2);
  });
});
