import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { movableClock } from './helpers/clock.js';
import { ADMIN_KEY, pushAlertSteps, SECRET } from './helpers/push-alerts.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const clock = movableClock();
let t: TestApp;
let receiver: Receiver;
let steps: ReturnType<typeof pushAlertSteps>;
beforeAll(async () => {
  t = await createTestApp({ clock, env: { ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_RETRY_BASE_MS: '10' } });
  receiver = await createReceiver();
  steps = pushAlertSteps(t);
  await t.startWorker();
  await t.startEvaluator();
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

/** A user whose webhook posts to its own path on the shared receiver. */
async function subscriber(name: string) {
  const user = await steps.userWithWebhook(`${receiver.url}/${name}`);
  const received = () => receiver.requests.filter((r) => r.path === `/hook/${name}`).map((r) => ({ ...r, json: JSON.parse(r.body) }));
  return { ...user, received, waitFor: (n: number) => eventually(() => expect(received()).toHaveLength(n)).then(received) };
}

const ALERTS = `{ alerts { alerts { id state notify cooldownSeconds expiresAt notifyResolved lastTriggeredAt triggerCount } } }`;
const alertsOf = async (apiKey: string) => (await t.gql(ALERTS, { apiKey })).body.data!.alerts.alerts;

describe('alerts fire by themselves on a price change', () => {
  it("respects the endpoint's event filter: a webhook that takes only pings gets no alerts.triggered", async () => {
    await steps.setPrices({ PUSHF: 100 });
    const user = await subscriber('filtered');
    const set = await t.gql(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, {
      apiKey: user.apiKey,
      variables: { input: { url: `${receiver.url}/filtered`, events: ['WEBHOOK_PING'] } },
    });
    expect(set.body.data!.setWebhook.__typename).toBe('SetWebhookSuccess');
    await steps.createAlert(user.apiKey, { ticker: 'PUSHF', targetPrice: 110 });
    await steps.setPrices({ PUSHF: 111 });
    await steps.evaluated();
    // The crossing is recorded on the alert; the endpoint asked not to receive it.
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'TRIGGERED', triggerCount: 1 });
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(0);
  });

  it('sends one signed delivery per crossing, none while the price stays above, another after it re-arms', async () => {
    await steps.setPrices({ PUSHA: 100 });
    const user = await subscriber('every');
    const alertId = await steps.createAlert(user.apiKey, { ticker: 'PUSHA', targetPrice: 110 });

    await steps.setPrices({ PUSHA: 111.5 });
    const [first] = await user.waitFor(1);
    expect(first!.headers['x-webhook-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(first!.body).digest('hex')}`);
    expect(first!.headers['x-webhook-event']).toBe('alerts.triggered');
    expect(first!.json).toMatchObject({ event: 'alerts.triggered', user_id: user.userId, triggered_count: 1 });
    expect(first!.json.triggered_alerts).toEqual([
      {
        alert: expect.objectContaining({ id: alertId, ticker: 'PUSHA', target_price: 110, direction: 'ABOVE' }),
        triggered: true,
        current_value: '111.50',
        details: 'PUSHA current price $111.50 is above target $110.00',
        evaluated_at: expect.any(String),
      },
    ]);

    await steps.setPrices({ PUSHA: 115 }); // still above: no new crossing
    await steps.evaluated();
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(1);
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'TRIGGERED', triggerCount: 1, notify: 'EVERY_CROSSING' });

    await steps.setPrices({ PUSHA: 105 }); // back below: re-armed, nothing sent
    await steps.evaluated();
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'ARMED', triggerCount: 1 });
    await steps.setPrices({ PUSHA: 112 });
    const [, second] = await user.waitFor(2);
    expect(second!.json.triggered_alerts[0]).toMatchObject({ alert: { id: alertId }, current_value: '112.00' });
    expect(second!.headers['x-webhook-delivery']).not.toBe(first!.headers['x-webhook-delivery']);
    const [alert] = await alertsOf(user.apiKey);
    expect(alert).toMatchObject({ state: 'TRIGGERED', triggerCount: 2 });
    expect(alert.lastTriggeredAt).not.toBeNull();
  });

  it('sends nothing when the price moves without crossing', async () => {
    await steps.setPrices({ PUSHB: 100 });
    const user = await subscriber('none');
    await steps.createAlert(user.apiKey, { ticker: 'PUSHB', targetPrice: 150 });
    await steps.setPrices({ PUSHB: 120 });
    await steps.setPrices({ PUSHB: 149.99 });
    await steps.evaluated();
    expect(await steps.deliveriesOf(user.userId)).toEqual([]);
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'ARMED', triggerCount: 0, lastTriggeredAt: null });
  });

  it('gives exactly N deliveries for N crossings back and forth', async () => {
    await steps.setPrices({ PUSHN: 50 });
    // That change's pass must be over before the alert exists: an alert whose condition already
    // holds notifies at the next pass of its ticker (docs/alerts.md), which would be a fifth entry.
    await steps.evaluated();
    const user = await subscriber('n-times');
    await steps.createAlert(user.apiKey, { ticker: 'PUSHN', targetPrice: 60, direction: 'BELOW' });
    await steps.evaluated();
    for (let i = 0; i < 4; i++) {
      await steps.setPrices({ PUSHN: 70 + i });
      await steps.setPrices({ PUSHN: 40 + i });
    }
    await steps.evaluated();
    // Two crossings that land in one evaluation pass share a delivery and are listed twice
    // (docs/alerts.md); how the passes fall depends on timing, the count of entries does not.
    const deliveries = await steps.deliveriesOf(user.userId);
    const entries = deliveries.flatMap((d) => (JSON.parse(d.body) as { triggered_alerts: { current_value: string }[] }).triggered_alerts);
    expect(entries.map((e) => e.current_value)).toEqual(['40.00', '41.00', '42.00', '43.00']);
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'TRIGGERED', triggerCount: 4 });
  });

  it('notifies a ONCE alert at its first crossing only, then shows it SPENT', async () => {
    await steps.setPrices({ PUSHO: 10 });
    const user = await subscriber('once');
    await steps.createAlert(user.apiKey, { ticker: 'PUSHO', targetPrice: 20, notify: 'ONCE' });
    await steps.setPrices({ PUSHO: 21 });
    await user.waitFor(1);
    await steps.setPrices({ PUSHO: 19 });
    await steps.setPrices({ PUSHO: 22 });
    await steps.evaluated();
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(1);
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'SPENT', notify: 'ONCE', triggerCount: 1 });
  });

  it('sends no second notification within the cooldown, and one after it', async () => {
    await steps.setPrices({ PUSHC: 10 });
    const user = await subscriber('cooldown');
    await steps.createAlert(user.apiKey, { ticker: 'PUSHC', targetPrice: 20, cooldownSeconds: 600 });
    await steps.setPrices({ PUSHC: 21 });
    await user.waitFor(1);
    // The send's timeout runs on this clock: moving it before the answer is recorded would time
    // the first send out and retry it.
    await eventually(async () => expect((await steps.deliveriesOf(user.userId))[0]?.status).toBe('DELIVERED'));
    // A minute short of the cooldown: more real time than the test's timeout may pass before the next crossing.
    clock.advance(540_000);
    await steps.setPrices({ PUSHC: 19 });
    await steps.setPrices({ PUSHC: 22 }); // a crossing inside the cooldown: state follows, nothing sent
    await steps.evaluated();
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(1);
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'TRIGGERED', triggerCount: 1, cooldownSeconds: 600 });
    clock.advance(61_000);
    await steps.setPrices({ PUSHC: 18 });
    await steps.setPrices({ PUSHC: 23 });
    const [, second] = await user.waitFor(2);
    expect(second!.json.triggered_alerts[0].current_value).toBe('23.00');
  });

  it('never notifies past expiresAt, and shows the alert EXPIRED', async () => {
    await steps.setPrices({ PUSHE: 10 });
    const user = await subscriber('expiry');
    const expiresAt = new Date(clock.now().getTime() + 60_000).toISOString();
    await steps.createAlert(user.apiKey, { ticker: 'PUSHE', targetPrice: 20, expiresAt });
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'ARMED', expiresAt });
    clock.advance(61_000);
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'EXPIRED' });
    await steps.setPrices({ PUSHE: 25 });
    await steps.evaluated();
    expect(await steps.deliveriesOf(user.userId)).toEqual([]);
    expect((await alertsOf(user.apiKey))[0]).toMatchObject({ state: 'EXPIRED', triggerCount: 0 });
  });

  it('sends alerts.resolved when asked, once a notified alert is false again', async () => {
    await steps.setPrices({ PUSHR: 10 });
    const user = await subscriber('resolved');
    const alertId = await steps.createAlert(user.apiKey, { ticker: 'PUSHR', targetPrice: 20, notifyResolved: true });
    await steps.setPrices({ PUSHR: 21 });
    await user.waitFor(1);
    await steps.setPrices({ PUSHR: 19.5 });
    const [, resolved] = await user.waitFor(2);
    expect(resolved!.headers['x-webhook-event']).toBe('alerts.resolved');
    expect(resolved!.json).toMatchObject({
      event: 'alerts.resolved',
      user_id: user.userId,
      resolved_count: 1,
      resolved_alerts: [
        {
          alert: { id: alertId, ticker: 'PUSHR' },
          resolved: true,
          current_value: '19.50',
          details: 'PUSHR current price $19.50 is not above target $20.00',
        },
      ],
    });
    const rows = await steps.deliveriesOf(user.userId);
    expect(rows.map((r) => r.payloadSummary)).toEqual(['1 triggered alert (PUSHR PRICE_THRESHOLD)', '1 resolved alert (PUSHR PRICE_THRESHOLD)']);
  });

  it('lists every crossing of one user in one upsertQuotes in one delivery', async () => {
    await steps.setPrices({ PUSHG1: 10, PUSHG2: 10, PUSHG3: 10 });
    const user = await subscriber('grouped');
    for (const ticker of ['PUSHG1', 'PUSHG2', 'PUSHG3']) await steps.createAlert(user.apiKey, { ticker, targetPrice: 15 });
    await steps.setPrices({ PUSHG1: 16, PUSHG2: 17, PUSHG3: 18 });
    const [delivery] = await user.waitFor(1);
    expect(delivery!.json.triggered_count).toBe(3);
    expect(delivery!.json.triggered_alerts.map((a: { alert: { ticker: string } }) => a.alert.ticker).sort()).toEqual(['PUSHG1', 'PUSHG2', 'PUSHG3']);
    await steps.evaluated();
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(1);
  });

  it('refuses bad notification options with field paths and creates nothing', async () => {
    await steps.setPrices({ PUSHV: 10 });
    const { apiKey } = await t.register();
    const res = await t.gql(
      `mutation($input: CreateAlertInput!) { createAlert(input: $input) { __typename ... on ValidationError { fields { path message } } } }`,
      { apiKey, variables: { input: { alertType: 'PRICE_THRESHOLD', ticker: 'PUSHV', targetPrice: 5, direction: 'ABOVE', cooldownSeconds: 0 } } },
    );
    expect(res.body.data!.createAlert.fields).toEqual([{ path: ['input', 'cooldownSeconds'], message: 'cooldownSeconds must be at least 1' }]);
    const past = await t.gql(
      `mutation($input: CreateAlertInput!) { createAlert(input: $input) { __typename ... on ValidationError { fields { path message } } } }`,
      { apiKey, variables: { input: { alertType: 'PRICE_THRESHOLD', ticker: 'PUSHV', targetPrice: 5, direction: 'ABOVE', expiresAt: '2020-01-01T00:00:00Z' } } },
    );
    expect(past.body.data!.createAlert.fields).toEqual([{ path: ['input', 'expiresAt'], message: 'expiresAt must be in the future' }]);
    expect(await alertsOf(apiKey)).toEqual([]);
  });
});
