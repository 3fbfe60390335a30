import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { movableClock } from './helpers/clock.js';
import { freePort } from './helpers/ports.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// Far longer than any test runs: a retry, or a send timing out, happens only when the test moves
// the clock past it, so a busy machine cannot turn a slow local answer into a TIMEOUT.
const BASE_MS = 600_000;
const TIMEOUT_MS = 60_000;

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id status } } } }`;
const HISTORY = `query($status: DeliveryStatus) { webhookDeliveries(status: $status) { deliveries {
  id status url httpStatus attempts maxAttempts failureReason failureKind completedAt nextAttemptAt
  attemptLog { number url startedAt durationMs httpStatus error failureKind } } } }`;

const clock = movableClock();
let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await createTestApp({
    clock,
    env: { WEBHOOK_RETRY_BASE_MS: String(BASE_MS), WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), WEBHOOK_MAX_ATTEMPTS: '3' },
  });
  // Names never reach the machine's resolver: every name here is unknown.
  await t.startWorker({
    lookup: (hostname, _options, callback) =>
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), ''),
  });
});
afterAll(() => t.close());
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(...args: Parameters<typeof createReceiver>) {
  const r = await createReceiver(...args);
  receivers.push(r);
  return r;
}

async function userWithPing(url: string) {
  const { apiKey } = await t.register();
  await t.gql(SET, { apiKey, variables: { input: { url } } });
  const id: string = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
  return { apiKey, id };
}

/** The delivery once it has more than `seen` attempts recorded, or is settled. */
const stateAfter = (apiKey: string, id: string, seen: number) =>
  eventually(async () => {
    const [delivery] = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
    expect(delivery.id).toBe(id);
    expect(delivery.status !== 'PENDING' || delivery.attempts > seen).toBe(true);
    return delivery;
  });

const moveClockPast = (iso: string) => clock.advance(Date.parse(iso) - clock.now().getTime() + 1);

/** Follows a delivery attempt by attempt, moving the clock past each wait, until it is settled. */
async function settle(apiKey: string, id: string, seen = 0) {
  for (let delivery = await stateAfter(apiKey, id, seen); ; delivery = await stateAfter(apiKey, id, delivery.attempts)) {
    if (delivery.status !== 'PENDING') return delivery;
    moveClockPast(delivery.nextAttemptAt);
  }
}

async function pingUntilSettled(url: string) {
  const { apiKey, id } = await userWithPing(url);
  return settle(apiKey, id);
}

describe('retries', () => {
  it('503 then 200 → DELIVERED on attempt 2, same delivery id both times', async () => {
    const r = await receiver((_req, i) => ({ status: i === 0 ? 503 : 200 }));
    const delivery = await pingUntilSettled(r.url);
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2, httpStatus: 200, failureReason: null, failureKind: null, nextAttemptAt: null });
    expect(delivery.attemptLog).toEqual([
      expect.objectContaining({ number: 1, httpStatus: 503, error: 'HTTP 503 Service Unavailable', failureKind: 'HTTP_ERROR' }),
      expect.objectContaining({ number: 2, httpStatus: 200, error: null, failureKind: null }),
    ]);
    expect(r.requests.map((q) => q.headers['x-webhook-delivery'])).toEqual([delivery.id, delivery.id]);
  });

  it('503 always → FAILED after 3 attempts, waiting base then 2 × base', async () => {
    const r = await receiver(() => ({ status: 503 }));
    const delivery = await pingUntilSettled(r.url);
    expect(delivery).toMatchObject({
      status: 'FAILED',
      attempts: 3,
      maxAttempts: 3,
      httpStatus: 503,
      failureKind: 'HTTP_ERROR',
      failureReason: 'All 3 attempts failed: HTTP 503 Service Unavailable',
      nextAttemptAt: null,
    });
    expect(delivery.completedAt).not.toBeNull();
    expect(delivery.attemptLog.map((a: { number: number }) => a.number)).toEqual([1, 2, 3]);
    expect(r.requests).toHaveLength(3);
    const [a1, a2, a3] = delivery.attemptLog.map((a: { startedAt: string; durationMs: number }) => ({
      start: Date.parse(a.startedAt),
      end: Date.parse(a.startedAt) + a.durationMs,
    }));
    expect(a2!.start - a1!.end).toBeGreaterThanOrEqual(BASE_MS);
    expect(a3!.start - a2!.end).toBeGreaterThanOrEqual(2 * BASE_MS);
  });

  it('keeps the delivery PENDING with the next attempt time between attempts', async () => {
    const r = await receiver(() => ({ status: 500 }));
    const { apiKey, id } = await userWithPing(r.url);
    const pending = await stateAfter(apiKey, id, 0);
    expect(pending).toMatchObject({
      status: 'PENDING',
      attempts: 1,
      failureKind: 'HTTP_ERROR',
      failureReason: 'Attempt 1 of 3 failed: HTTP 500 Internal Server Error',
    });
    const first = pending.attemptLog[0];
    expect(Date.parse(pending.nextAttemptAt)).toBe(Date.parse(first.startedAt) + first.durationMs + BASE_MS);
    expect(r.requests).toHaveLength(1);
  });

  it("a retry goes to the webhook's current URL; each attempt shows the URL it was sent to", async () => {
    const oldReceiver = await receiver(() => ({ status: 503 }));
    const now = await receiver();
    const { apiKey, id } = await userWithPing(oldReceiver.url);
    const first = await stateAfter(apiKey, id, 0);
    expect(first).toMatchObject({ status: 'PENDING', attempts: 1 });
    await t.gql(SET, { apiKey, variables: { input: { url: now.url } } });
    moveClockPast(first.nextAttemptAt);

    const delivery = await settle(apiKey, id, 1);
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 2, url: oldReceiver.url });
    expect(delivery.attemptLog.map((a: { number: number; url: string }) => [a.number, a.url])).toEqual([
      [1, oldReceiver.url],
      [2, now.url],
    ]);
    expect(oldReceiver.requests.map((q) => q.headers['x-webhook-delivery'])).toEqual([id]);
    expect(now.requests.map((q) => q.headers['x-webhook-delivery'])).toEqual([id]);
  });
});

describe('each failed attempt has a typed failureKind', () => {
  it('refused connection → CONNECTION_ERROR', async () => {
    const delivery = await pingUntilSettled(`http://127.0.0.1:${await freePort()}/hook`);
    expect(delivery).toMatchObject({ status: 'FAILED', failureKind: 'CONNECTION_ERROR', httpStatus: null, attempts: 3 });
    expect(delivery.attemptLog[0].error).toMatch(/ECONNREFUSED/);
  });

  it('a receiver slower than the timeout → TIMEOUT', async () => {
    const r = await receiver(() => ({ status: 200, delayMs: TIMEOUT_MS * 2 }));
    const { apiKey, id } = await userWithPing(r.url);
    let delivery;
    for (let attempt = 1; ; attempt++) {
      await r.waitFor(attempt);
      clock.advance(TIMEOUT_MS); // the receiver still holds the request: the send times out now
      delivery = await stateAfter(apiKey, id, attempt - 1);
      if (delivery.status !== 'PENDING') break;
      moveClockPast(delivery.nextAttemptAt);
    }
    expect(delivery).toMatchObject({ status: 'FAILED', failureKind: 'TIMEOUT', httpStatus: null });
    expect(delivery.failureReason).toBe(`All 3 attempts failed: No response within ${TIMEOUT_MS} ms`);
    expect(r.requests).toHaveLength(3);
  });

  it('302 → REDIRECT, and the redirect target receives nothing', async () => {
    const target = await receiver();
    const r = await receiver(() => ({ status: 302, headers: { location: target.url } }));
    const delivery = await pingUntilSettled(r.url);
    expect(delivery).toMatchObject({ status: 'FAILED', failureKind: 'REDIRECT', httpStatus: 302 });
    expect(delivery.attemptLog[0].error).toBe('HTTP 302 Found (redirects are not followed)');
    expect(r.requests).toHaveLength(3);
    expect(target.requests).toHaveLength(0);
  });

  it('an unknown host → DNS_ERROR', async () => {
    const delivery = await pingUntilSettled('http://does-not-exist.invalid/hook');
    expect(delivery).toMatchObject({ status: 'FAILED', failureKind: 'DNS_ERROR', httpStatus: null });
    expect(delivery.attemptLog[0].error).toMatch(/^Host does-not-exist\.invalid did not resolve/);
  });
});
