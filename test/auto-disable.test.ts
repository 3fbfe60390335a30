import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhooks } from '../src/db/tables.js';
import { movableClock } from './helpers/clock.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { subscribeSse } from './helpers/sse.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id status failureReason } } } }`;
const WEBHOOK = `{ webhook { isActive disabledAt disabledReason } }`;
const HISTORY = `{ webhookDeliveries { deliveries { id status attempts failureReason } } }`;
const ENABLE = `mutation { enableWebhook { __typename
  ... on EnableWebhookSuccess { webhook { isActive disabledAt disabledReason } }
  ... on WebhookNotFound { message } } }`;
const UPDATED = `subscription { webhookUpdated { url isActive disabledAt disabledReason secretRotatedAt } }`;

const HOUR = 3_600_000;
const clock = movableClock();
let t: TestApp;
// Per user, the status the receiver answers with (by the delivery's URL path).
const answers = new Map<string, number>();
let receiver: Receiver;

beforeAll(async () => {
  t = await createTestApp({
    clock,
    env: { WEBHOOK_DISABLE_AFTER_FAILURES: '3', WEBHOOK_DISABLE_AFTER: '1h', WEBHOOK_MAX_ATTEMPTS: '1' },
  });
  receiver = await createReceiver((request) => ({ status: answers.get(request.path) ?? 200 }));
  // The disable notice reaches the API's subscribers only through NOTIFY, as from `npm run worker`.
  await t.startWorker({ database: await t.otherConnection() });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

let counter = 0;
async function userAnswering(status: number) {
  const user = await t.register();
  const path = `/hook-${counter++}`;
  answers.set(path, status);
  await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url: receiver.url.replace('/hook', path) } } });
  return { ...user, path, answer: (next: number) => answers.set(path, next) };
}

async function pingAndWait(apiKey: string, status: string) {
  const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
  return eventually(async () => {
    const deliveries = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
    const delivery = deliveries.find((d: { id: string }) => d.id === id);
    expect(delivery.status).toBe(status);
    return delivery;
  });
}

// The health write follows the delivery's status asynchronously: moving the clock before it lands
// would date the run differently, so tests wait for the stored count first.
const failuresStored = (userId: string, count: number) =>
  eventually(async () => {
    const [row] = await t.database.db.select().from(webhooks).where(eq(webhooks.userId, userId));
    expect(row?.consecutiveFailures).toBe(count);
  });

const webhookOf = async (apiKey: string) => (await t.gql(WEBHOOK, { apiKey })).body.data!.webhook;
const requestsTo = (path: string) => receiver.requests.filter((r) => r.path === path).length;

describe('auto-disable', () => {
  it('disables after N consecutive failures spanning the period, skips new events, tells the owner, and enableWebhook sends again', async () => {
    const user = await userAnswering(500);
    const stream = await subscribeSse<{ webhookUpdated: Record<string, unknown> }>(t.app, UPDATED, user.apiKey);
    try {
      for (let i = 0; i < 3; i++) await pingAndWait(user.apiKey, 'FAILED');
      await failuresStored(user.userId, 3);
      // Three failures, but within minutes: not yet.
      expect(await webhookOf(user.apiKey)).toEqual({ isActive: true, disabledAt: null, disabledReason: null });

      clock.advance(HOUR);
      await pingAndWait(user.apiKey, 'FAILED');
      const disabled = await eventually(async () => {
        const webhook = await webhookOf(user.apiKey);
        expect(webhook.isActive).toBe(false);
        return webhook;
      });
      expect(disabled.disabledReason).toMatch(/^4 consecutive deliveries failed since /);
      expect(Date.parse(disabled.disabledAt)).toBeGreaterThanOrEqual(clock.now().getTime() - 60_000);

      const notice = (await stream.next()).data!.webhookUpdated;
      expect(notice).toMatchObject({ isActive: false, disabledReason: disabled.disabledReason, url: receiver.url.replace('/hook', user.path) });

      const sentBefore = requestsTo(user.path);
      const skipped = (await t.gql(PING, { apiKey: user.apiKey })).body.data!.sendTestWebhook.delivery;
      expect(skipped.status).toBe('SKIPPED');
      expect(skipped.failureReason).toContain('enableWebhook re-activates it');
      expect((await t.gql(`{ webhookDeliveries(status: SKIPPED) { count } }`, { apiKey: user.apiKey })).body.data!.webhookDeliveries.count).toBe(1);

      user.answer(200);
      const enabled = (await t.gql(ENABLE, { apiKey: user.apiKey })).body.data!.enableWebhook;
      expect(enabled).toEqual({ __typename: 'EnableWebhookSuccess', webhook: { isActive: true, disabledAt: null, disabledReason: null } });
      expect((await stream.next()).data!.webhookUpdated).toMatchObject({ isActive: true, disabledAt: null });
      expect(requestsTo(user.path)).toBe(sentBefore); // the skipped ping was never sent

      await pingAndWait(user.apiKey, 'DELIVERED');
      expect(requestsTo(user.path)).toBe(sentBefore + 1);
    } finally {
      stream.close();
    }
  });

  it('a delivered delivery restarts the count', async () => {
    const user = await userAnswering(500);
    await pingAndWait(user.apiKey, 'FAILED');
    await pingAndWait(user.apiKey, 'FAILED');
    user.answer(200);
    await pingAndWait(user.apiKey, 'DELIVERED');
    await failuresStored(user.userId, 0);
    user.answer(500);
    clock.advance(2 * HOUR);
    await pingAndWait(user.apiKey, 'FAILED');
    await pingAndWait(user.apiKey, 'FAILED');
    await failuresStored(user.userId, 2);
    clock.advance(2 * HOUR);
    expect(await webhookOf(user.apiKey)).toMatchObject({ isActive: true });
    // The third failure of the new run, which began two hours ago, does disable it.
    await pingAndWait(user.apiKey, 'FAILED');
    await eventually(async () => expect(await webhookOf(user.apiKey)).toMatchObject({ isActive: false }));
  });

  it('a 410 Gone disables at once, and setWebhook re-activates', async () => {
    const user = await userAnswering(410);
    await pingAndWait(user.apiKey, 'FAILED');
    const webhook = await eventually(async () => {
      const current = await webhookOf(user.apiKey);
      expect(current.isActive).toBe(false);
      return current;
    });
    expect(webhook.disabledReason).toBe('The receiver answered 410 Gone');
    expect(requestsTo(user.path)).toBe(1);

    user.answer(200);
    await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url: receiver.url.replace('/hook', user.path) } } });
    expect(await webhookOf(user.apiKey)).toEqual({ isActive: true, disabledAt: null, disabledReason: null });
    await pingAndWait(user.apiKey, 'DELIVERED');
  });

  it('enableWebhook without a webhook answers WebhookNotFound', async () => {
    const { apiKey } = await t.register();
    expect((await t.gql(ENABLE, { apiKey })).body.data!.enableWebhook).toEqual({
      __typename: 'WebhookNotFound',
      message: 'No webhook is configured for this account',
    });
  });
});
