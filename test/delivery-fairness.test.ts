import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReceiver, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { __typename } }`;
const TIMEOUT_MS = 3000;

let t: TestApp;
let hanging: Receiver[];
let healthy: Receiver;
let release: () => void;
beforeAll(async () => {
  const never = new Promise<void>((resolve) => (release = resolve));
  t = await createTestApp({
    env: {
      // Shortened: 4 send slots, one per endpoint; the old worker gave all 4 to the first rows claimed.
      DELIVERY_CONCURRENCY: '4',
      DELIVERY_ENDPOINT_CONCURRENCY: '1',
      DELIVERY_ENDPOINT_BREAKER_FAILURES: '2',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      DELIVERY_LEASE_MS: '20000',
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
  it("two tenants whose receivers hang never delay a healthy tenant's deliveries past 1 s", async () => {
    const stuck = await Promise.all(hanging.map((r) => tenant(r.url)));
    const ok = await tenant(healthy.url);
    for (const apiKey of stuck) for (let i = 0; i < 10; i++) await t.gql(PING, { apiKey });
    await t.startWorker();
    await Promise.all(hanging.map((r) => r.waitFor(1)));

    const latencies: number[] = [];
    for (let i = 0; i < 12; i++) {
      const sent = Date.now();
      expect((await t.gql(PING, { apiKey: ok })).body.data!.sendTestWebhook.__typename).toBe('SendTestWebhookSuccess');
      await healthy.waitFor(i + 1, 20_000);
      latencies.push(healthy.requests[i]!.at - sent);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies.at(-1)).toBeLessThanOrEqual(1000);
    // Each hanging endpoint held at most its one slot at a time, and its breaker then held it back.
    expect(Math.max(...hanging.map((r) => r.requests.length))).toBeLessThanOrEqual(3);
  });
});
