import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiver, type Receiver } from './helpers/receiver.js';
import { subscribeSse } from './helpers/sse.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;
const SUBSCRIPTION = `subscription { webhookDeliveryUpdated { id event status attempts httpStatus completedAt attemptLog { number httpStatus } } }`;

let t: TestApp;
let receiver: Receiver;
beforeAll(async () => {
  t = await createTestApp();
  receiver = await createReceiver();
  // The worker's changes reach the subscriber only through NOTIFY, as from `npm run worker`.
  await t.startWorker({ database: await t.otherConnection() });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

const subscribe = (apiKey?: string) => subscribeSse<{ webhookDeliveryUpdated: Record<string, any> }>(t.app, SUBSCRIPTION, apiKey);

async function userWithWebhook() {
  const user = await t.register();
  await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url: receiver.url } } });
  return user;
}

describe('webhookDeliveryUpdated over server-sent events', () => {
  it('shows a delivery go from PENDING to DELIVERED', async () => {
    const { apiKey } = await userWithWebhook();
    const stream = await subscribe(apiKey);
    try {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toMatch(/^text\/event-stream/);
      const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
      const pending = (await stream.next()).data!.webhookDeliveryUpdated;
      expect(pending).toEqual({ id, event: 'webhook.ping', status: 'PENDING', attempts: 0, httpStatus: null, completedAt: null, attemptLog: [] });
      const delivered = (await stream.next()).data!.webhookDeliveryUpdated;
      expect(delivered).toMatchObject({ id, status: 'DELIVERED', attempts: 1, httpStatus: 200, attemptLog: [{ number: 1, httpStatus: 200 }] });
      expect(delivered.completedAt).not.toBeNull();
    } finally {
      stream.close();
    }
  });

  it("never shows a viewer another user's deliveries", async () => {
    const a = await userWithWebhook();
    const b = await userWithWebhook();
    const streamB = await subscribe(b.apiKey);
    try {
      await t.gql(PING, { apiKey: a.apiKey });
      await t.gql(PING, { apiKey: a.apiKey });
      const own = (await t.gql(PING, { apiKey: b.apiKey })).body.data!.sendTestWebhook.delivery.id;
      // A's changes were published first; B's stream starts with B's own delivery.
      expect((await streamB.next()).data!.webhookDeliveryUpdated).toMatchObject({ id: own, status: 'PENDING' });
      expect((await streamB.next()).data!.webhookDeliveryUpdated).toMatchObject({ id: own, status: 'DELIVERED' });
    } finally {
      streamB.close();
    }
  });

  it('refuses a subscriber without an API key', async () => {
    const stream = await subscribe();
    try {
      const first = await stream.next();
      expect(first.data ?? null).toBeNull();
      expect(first.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    } finally {
      stream.close();
    }
  });
});
