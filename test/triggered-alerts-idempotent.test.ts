import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, pushAlertSteps } from './helpers/push-alerts.js';
import { createReceiver, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const CHECK = `{ triggeredAlerts { summary { triggeredCount } delivery { id status payloadSummary } deliveryError } }`;

let t: TestApp;
let receiver: Receiver;
let steps: ReturnType<typeof pushAlertSteps>;
beforeAll(async () => {
  t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY } });
  receiver = await createReceiver();
  steps = pushAlertSteps(t);
});
afterAll(async () => {
  await t.close();
  await receiver.close();
});

async function get(apiKey: string) {
  const response = await t.app.fetch(`http://127.0.0.1/graphql?query=${encodeURIComponent(CHECK)}`, { headers: { 'x-api-key': apiKey } });
  return ((await response.json()) as { data: { triggeredAlerts: Record<string, any> } }).data.triggeredAlerts;
}

describe('triggeredAlerts delivers one state once', () => {
  it('answers the same delivery for the same triggered alerts on the same quotes, POST or GET', async () => {
    await steps.setPrices({ IDEMA: 100, IDEMB: 100 });
    const user = await steps.userWithWebhook(receiver.url);
    await steps.createAlert(user.apiKey, { ticker: 'IDEMA', targetPrice: 50 });
    await steps.createAlert(user.apiKey, { ticker: 'IDEMB', targetPrice: 500 });

    const first = (await t.gql(CHECK, { apiKey: user.apiKey })).body.data!.triggeredAlerts;
    expect(first).toMatchObject({ summary: { triggeredCount: 1 }, delivery: { payloadSummary: '1 triggered alert (IDEMA PRICE_THRESHOLD)' }, deliveryError: null });
    const again = (await t.gql(CHECK, { apiKey: user.apiKey })).body.data!.triggeredAlerts;
    expect(again.delivery.id).toBe(first.delivery.id);
    expect((await get(user.apiKey)).delivery.id).toBe(first.delivery.id);
    expect((await get(user.apiKey)).delivery.id).toBe(first.delivery.id);
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(1);

    // A new quote time behind a triggered alert is a new state: a new delivery.
    await steps.setPrices({ IDEMA: 101 });
    const moved = await get(user.apiKey);
    expect(moved.delivery.id).not.toBe(first.delivery.id);
    // So is a different triggered set.
    await steps.setPrices({ IDEMB: 600 });
    const both = (await t.gql(CHECK, { apiKey: user.apiKey })).body.data!.triggeredAlerts;
    expect(both.summary.triggeredCount).toBe(2);
    expect(both.delivery.id).not.toBe(moved.delivery.id);
    expect((await t.gql(CHECK, { apiKey: user.apiKey })).body.data!.triggeredAlerts.delivery.id).toBe(both.delivery.id);
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(3);
  });

  it('gives two concurrent calls for one state one delivery', async () => {
    await steps.setPrices({ IDEMC: 100 });
    const user = await steps.userWithWebhook(receiver.url);
    await steps.createAlert(user.apiKey, { ticker: 'IDEMC', targetPrice: 50 });
    const answers = await Promise.all([get(user.apiKey), get(user.apiKey), get(user.apiKey)]);
    expect(new Set(answers.map((a) => a.delivery.id)).size).toBe(1);
    expect(await steps.deliveriesOf(user.userId)).toHaveLength(1);
  });

  it('says why there is no delivery when the enqueue fails, with the logged request id, and never blames the webhook', async () => {
    await steps.setPrices({ IDEMF: 100 });
    const user = await steps.userWithWebhook(receiver.url);
    await steps.createAlert(user.apiKey, { ticker: 'IDEMF', targetPrice: 50 });
    // A real failure inside the database, for this user's deliveries only.
    await t.database.db.execute(sql.raw(`
      create function aw_test_refuse_delivery() returns trigger language plpgsql as $$
      begin
        if new.user_id = '${user.userId}' then raise exception 'disk full (test)'; end if;
        return new;
      end $$`));
    await t.database.db.execute(
      sql.raw(`create trigger aw_test_refuse before insert on webhook_deliveries for each row execute function aw_test_refuse_delivery()`),
    );
    try {
      const res = await t.gql(CHECK, { apiKey: user.apiKey });
      expect(res.body.errors).toBeUndefined();
      const report = res.body.data!.triggeredAlerts;
      expect(report.summary.triggeredCount).toBe(1);
      expect(report.delivery).toBeNull();
      expect(report.deliveryError).toMatch(/^The delivery could not be created because of an internal error; try again \(request id [0-9a-f-]{36}\)$/);
      expect(report.deliveryError).not.toContain('disk full');
      const requestId = /request id ([0-9a-f-]{36})/.exec(report.deliveryError)![1];
      const logged = t.logs.find((l) => l.msg === 'could not enqueue the alerts.triggered delivery');
      expect(logged).toMatchObject({ requestId, userId: user.userId });
      expect(res.headers.get('x-request-id')).toBe(requestId);
      expect(JSON.stringify(logged)).toContain('disk full (test)');
    } finally {
      await t.database.db.execute(sql.raw(`drop trigger aw_test_refuse on webhook_deliveries`));
      await t.database.db.execute(sql.raw(`drop function aw_test_refuse_delivery()`));
    }

    const withoutWebhook = await t.register();
    await steps.createAlert(withoutWebhook.apiKey, { ticker: 'IDEMF', targetPrice: 50 });
    const report = (await t.gql(CHECK, { apiKey: withoutWebhook.apiKey })).body.data!.triggeredAlerts;
    expect(report).toEqual({ summary: { triggeredCount: 1 }, delivery: null, deliveryError: null });
  });
});
