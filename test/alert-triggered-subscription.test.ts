import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, pushAlertSteps } from './helpers/push-alerts.js';
import { createReceiver, type Receiver } from './helpers/receiver.js';
import { subscribeSse } from './helpers/sse.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SUBSCRIPTION = `subscription { alertTriggered { alert { id ticker alertType state } currentValue details evaluatedAt delivery { id status event } } }`;

let t: TestApp;
let receiver: Receiver;
let steps: ReturnType<typeof pushAlertSteps>;
beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });
  receiver = await createReceiver();
  steps = pushAlertSteps(t);
  // The crossing reaches the subscriber only through NOTIFY, as from `npm run worker`.
  await t.startEvaluator({ database: await t.otherConnection() });
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

const subscribe = (apiKey: string) => subscribeSse<{ alertTriggered: Record<string, any> }>(t.app, SUBSCRIPTION, apiKey);

describe('alertTriggered over server-sent events', () => {
  it("streams each crossing of the viewer's alerts with the delivery that carries it, and no one else's", async () => {
    await steps.setPrices({ LIVEA: 10 });
    const other = await steps.userWithWebhook(receiver.url);
    await steps.createAlert(other.apiKey, { ticker: 'LIVEA', targetPrice: 11 });
    const user = await steps.userWithWebhook(receiver.url);
    const alertId = await steps.createAlert(user.apiKey, { ticker: 'LIVEA', targetPrice: 12 });
    const stream = await subscribe(user.apiKey);
    try {
      expect(stream.status).toBe(200);
      await steps.setPrices({ LIVEA: 11.5 }); // only the other user's alert crosses
      await steps.evaluated();
      await steps.setPrices({ LIVEA: 12.5 });
      const crossing = (await stream.next()).data!.alertTriggered;
      const [delivery] = await steps.deliveriesOf(user.userId);
      expect(crossing).toEqual({
        alert: { id: alertId, ticker: 'LIVEA', alertType: 'PRICE_THRESHOLD', state: 'TRIGGERED' },
        currentValue: '12.50',
        details: 'LIVEA current price $12.50 is above target $12.00',
        evaluatedAt: expect.any(String),
        delivery: { id: delivery!.id, status: 'PENDING', event: 'alerts.triggered' },
      });
    } finally {
      stream.close();
    }
  });

  it('streams a crossing with delivery null when the viewer has no webhook', async () => {
    await steps.setPrices({ LIVEB: 10 });
    const user = await t.register();
    await steps.createAlert(user.apiKey, { ticker: 'LIVEB', targetPrice: 12 });
    const stream = await subscribe(user.apiKey);
    try {
      await steps.setPrices({ LIVEB: 13 });
      expect((await stream.next()).data!.alertTriggered).toMatchObject({ currentValue: '13.00', delivery: null });
    } finally {
      stream.close();
    }
  });
});
