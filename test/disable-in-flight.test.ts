import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDue } from '../src/delivery/delivery-queue.js';
import { webhooksRepository } from '../src/modules/webhooks/webhooks.repository.js';
import { movableClock } from './helpers/clock.js';
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

  it('a delivery claimed but not yet sent when its webhook is disabled ends SKIPPED with the reason, not as deleted', async () => {
    // An app of its own, whose only worker starts after the claim below.
    const own = await createTestApp();
    const quiet = await createReceiver();
    try {
      const { apiKey, userId } = await own.register();
      await own.gql(SET, { apiKey, variables: { input: { url: quiet.url } } });
      const id = (await own.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
      // Claimed by a worker that then died, before the webhook was disabled (the disable leaves
      // leased rows to whoever holds them).
      const clock = movableClock();
      const claimed = await claimDue(own.database.db, { owner: 'crashed', now: clock.now(), leaseMs: 60_000, limit: 100 });
      expect(claimed.map((r) => r.id)).toEqual([id]);
      await webhooksRepository(own.database.db).disable(userId, 'The receiver answered 410 Gone', clock.now(), { gone: true, url: quiet.url });

      // Another worker takes it once the lease runs out.
      await own.startWorker({ clock });
      clock.advance(60_001);
      const delivery = await eventually(async () => {
        const list = (await own.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
        const found = list.find((d: { id: string }) => d.id === id);
        expect(found.status).toBe('SKIPPED');
        return found;
      });
      expect(delivery).toMatchObject({
        attempts: 0,
        failureReason: 'Not sent: the webhook is disabled (The receiver answered 410 Gone); enableWebhook re-activates it',
      });
      expect(quiet.requests).toEqual([]);
    } finally {
      await quiet.close();
      await own.close();
    }
  });
});
