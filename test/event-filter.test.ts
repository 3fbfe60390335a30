import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename
  ... on SetWebhookSuccess { webhook { events } }
  ... on ValidationError { fields { path message } } } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;
const EVENTS = `{ webhook { events } }`;
const ALL = ['ALERTS_TRIGGERED', 'ALERTS_RESOLVED', 'WEBHOOK_PING'];
const ADMIN_KEY = 'admin-key-0123456789';

let t: TestApp;
let receiver: Receiver;
beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });
  receiver = await createReceiver();
  await t.gql(`mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`, {
    apiKey: ADMIN_KEY,
    variables: { input: [{ ticker: 'AAPL', price: 215.3 }] },
  });
  await t.startWorker();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function userWithTriggeredAlert() {
  const user = await t.register();
  await t.gql(`mutation($input: CreateAlertInput!) { createAlert(input: $input) { __typename } }`, {
    apiKey: user.apiKey,
    variables: { input: { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: 200, direction: 'ABOVE' } },
  });
  return user;
}

const checkAlerts = async (apiKey: string) =>
  (await t.gql(`{ triggeredAlerts { summary { triggeredCount } delivery { event status } } }`, { apiKey })).body.data!.triggeredAlerts;

describe('the event filter', () => {
  it('sends every event type by default', async () => {
    const { apiKey } = await userWithTriggeredAlert();
    expect((await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } })).body.data!.setWebhook.webhook.events).toEqual(ALL);
    expect(await checkAlerts(apiKey)).toEqual({ summary: { triggeredCount: 1 }, delivery: { event: 'alerts.triggered', status: 'PENDING' } });
  });

  it('leaves out the types not listed, while sendTestWebhook always goes', async () => {
    const { apiKey, userId } = await userWithTriggeredAlert();
    const set = (await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, events: ['ALERTS_RESOLVED'] } } })).body.data!.setWebhook;
    expect(set.webhook.events).toEqual(['ALERTS_RESOLVED']);
    expect(await checkAlerts(apiKey)).toEqual({ summary: { triggeredCount: 1 }, delivery: null });
    const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
    await eventually(() => expect(receiver.requests.some((r) => r.headers['x-webhook-delivery'] === id)).toBe(true));
    expect(receiver.requests.filter((r) => r.body.includes(userId)).map((r) => r.headers['x-webhook-event'])).toEqual(['webhook.ping']);

    // Omitted keeps the filter; null restores all.
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    expect((await t.gql(EVENTS, { apiKey })).body.data!.webhook.events).toEqual(['ALERTS_RESOLVED']);
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, events: null } } });
    expect((await t.gql(EVENTS, { apiKey })).body.data!.webhook.events).toEqual(ALL);
    expect((await checkAlerts(apiKey)).delivery).toEqual({ event: 'alerts.triggered', status: 'PENDING' });
  });

  it('refuses an empty list and changes nothing', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, events: ['WEBHOOK_PING'] } } });
    const res = (await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, events: [] } } })).body.data!.setWebhook;
    expect(res).toEqual({ __typename: 'ValidationError', fields: [{ path: ['input', 'events'], message: 'List at least one event type, or omit events for all' }] });
    expect((await t.gql(EVENTS, { apiKey })).body.data!.webhook.events).toEqual(['WEBHOOK_PING']);
  });
});
