import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const BASE_MS = 40;
const TIMEOUT_MS = 250;

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id status } } } }`;
const HISTORY = `query($status: DeliveryStatus) { webhookDeliveries(status: $status) { deliveries {
  id status httpStatus attempts maxAttempts failureReason failureKind completedAt nextAttemptAt
  attemptLog { number startedAt durationMs httpStatus error failureKind } } } }`;

let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await createTestApp({
    env: { WEBHOOK_RETRY_BASE_MS: String(BASE_MS), WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS), WEBHOOK_MAX_ATTEMPTS: '3' },
  });
  await t.startWorker();
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

/** Registers a user whose webhook is `url`, sends a ping, and waits until the delivery is settled. */
async function pingUntilSettled(url: string) {
  const { apiKey } = await t.register();
  await t.gql(SET, { apiKey, variables: { input: { url } } });
  const id: string = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
  return eventually(async () => {
    const [delivery] = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
    expect(delivery.id).toBe(id);
    expect(delivery.status).not.toBe('PENDING');
    return delivery;
  });
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
    expect(r.requests[2]!.at - r.requests[1]!.at).toBeGreaterThanOrEqual(2 * BASE_MS);
  });

  it('keeps the delivery PENDING with the next attempt time between attempts', async () => {
    const r = await receiver(() => ({ status: 500 }));
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: r.url } } });
    await t.gql(PING, { apiKey });
    await r.waitFor(1);
    const pending = await eventually(async () => {
      const [d] = (await t.gql(HISTORY, { apiKey, variables: { status: 'PENDING' } })).body.data!.webhookDeliveries.deliveries;
      expect(d.attempts).toBe(1);
      return d;
    });
    expect(pending).toMatchObject({ status: 'PENDING', failureKind: 'HTTP_ERROR', failureReason: 'Attempt 1 of 3 failed: HTTP 500 Internal Server Error' });
    const first = pending.attemptLog[0];
    expect(Date.parse(pending.nextAttemptAt)).toBe(Date.parse(first.startedAt) + first.durationMs + BASE_MS);
  });
});

describe('each failed attempt has a typed failureKind', () => {
  it('refused connection → CONNECTION_ERROR', async () => {
    const delivery = await pingUntilSettled(`http://127.0.0.1:${await closedPort()}/hook`);
    expect(delivery).toMatchObject({ status: 'FAILED', failureKind: 'CONNECTION_ERROR', httpStatus: null, attempts: 3 });
    expect(delivery.attemptLog[0].error).toMatch(/ECONNREFUSED/);
  });

  it('a receiver slower than the timeout → TIMEOUT', async () => {
    const r = await receiver(() => ({ status: 200, delayMs: TIMEOUT_MS * 8 }));
    const delivery = await pingUntilSettled(r.url);
    expect(delivery).toMatchObject({ status: 'FAILED', failureKind: 'TIMEOUT', httpStatus: null });
    expect(delivery.failureReason).toBe(`All 3 attempts failed: No response within ${TIMEOUT_MS} ms`);
    expect(r.requests).toHaveLength(3);
    for (const attempt of delivery.attemptLog) expect(attempt.durationMs).toBeLessThan(TIMEOUT_MS * 8);
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
