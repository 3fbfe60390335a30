import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from './helpers/clock.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { __typename } }`;
const TIMEOUT_MS = 120_000;

// Time stands still unless a test moves it: a hanging send ends only when the clock passes its timeout.
const clock = manualClock(new Date());
let t: TestApp;
let hanging: Receiver[];
let healthy: Receiver;
let release: () => void;
beforeAll(async () => {
  const never = new Promise<void>((resolve) => (release = resolve));
  t = await createTestApp({
    clock,
    env: {
      // Shortened: 4 send slots, one per endpoint; the old worker gave all 4 to the first rows claimed.
      DELIVERY_CONCURRENCY: '4',
      DELIVERY_ENDPOINT_CONCURRENCY: '1',
      DELIVERY_ENDPOINT_BREAKER_FAILURES: '2',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      DELIVERY_LEASE_MS: String(TIMEOUT_MS + 60_000),
      WEBHOOK_RETRY_BASE_MS: '600000',
    },
  });
  hanging = [await createReceiver(() => ({ until: never })), await createReceiver(() => ({ until: never }))];
  healthy = await createReceiver();
});
afterAll(async () => {
  release?.();
  await t.close();
  await Promise.all([...hanging, healthy].map((r) => r.close()));
});

async function tenant(url: string) {
  const { apiKey } = await t.register();
  await t.gql(SET, { apiKey, variables: { input: { url } } });
  return apiKey;
}

describe('fair delivery', () => {
  it("two tenants whose receivers hang never hold up a healthy tenant's deliveries", async () => {
    const stuck = await Promise.all(hanging.map((r) => tenant(r.url)));
    const ok = await tenant(healthy.url);
    for (const apiKey of stuck) for (let i = 0; i < 10; i++) await t.gql(PING, { apiKey });
    await t.startWorker();
    await Promise.all(hanging.map((r) => r.waitFor(1)));

    for (let i = 0; i < 12; i++) {
      if (i === 4 || i === 8) {
        // Both hanging sends time out; each endpoint's next row goes out, then its breaker opens.
        clock.advance(TIMEOUT_MS);
        if (i === 4) await Promise.all(hanging.map((r) => r.waitFor(2)));
      }
      expect((await t.gql(PING, { apiKey: ok })).body.data!.sendTestWebhook.__typename).toBe('SendTestWebhookSuccess');
      // The clock has not moved since the hanging sends began: this one went past them, waiting for none.
      await healthy.waitFor(i + 1);
    }
    // Each hanging endpoint held at most its one slot at a time, and its breaker then held it back.
    await eventually(() => expect(t.logs.filter((l) => l.msg === 'endpoint keeps timing out; its deliveries wait for a cooldown')).toHaveLength(2));
    expect(hanging.map((r) => r.requests.length)).toEqual([2, 2]);
  });
});
