import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpSender, RESPONSE_BODY_TIMEOUT_MS } from '../src/delivery/http-sender.js';
import { manualClock, movableClock } from './helpers/clock.js';
import { createReceiver, createTcpReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const BASE_MS = 1000;
const RETRY_AFTER_MAX_MS = 600_000;

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;
const HISTORY = `{ webhookDeliveries { deliveries { id status attempts maxAttempts httpStatus failureKind failureReason nextAttemptAt
  attemptLog { number startedAt durationMs httpStatus error failureKind } } } }`;

const clock = movableClock();
let t: TestApp;
const receivers: Receiver[] = [];
beforeAll(async () => {
  t = await createTestApp({
    clock,
    env: {
      WEBHOOK_RETRY_BASE_MS: String(BASE_MS),
      WEBHOOK_RETRY_AFTER_MAX_MS: String(RETRY_AFTER_MAX_MS),
      WEBHOOK_TIMEOUT_MS: '5000',
      WEBHOOK_MAX_ATTEMPTS: '3',
    },
  });
  await t.startWorker();
});
afterAll(() => t.close());
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function firstAttempt(url: string) {
  const { apiKey } = await t.register();
  await t.gql(SET, { apiKey, variables: { input: { url } } });
  const id: string = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
  return eventually(async () => {
    const [d] = (await t.gql(HISTORY, { apiKey })).body.data!.webhookDeliveries.deliveries;
    expect(d.id).toBe(id);
    expect(d.attempts).toBeGreaterThanOrEqual(1);
    return d;
  });
}

async function replying(status: number, headers: Record<string, string> = {}) {
  const r = await createReceiver(() => ({ status, headers }));
  receivers.push(r);
  return r;
}

const waitAfterFirst = (d: { nextAttemptAt: string; attemptLog: { startedAt: string; durationMs: number }[] }) =>
  Date.parse(d.nextAttemptAt) - (Date.parse(d.attemptLog[0]!.startedAt) + d.attemptLog[0]!.durationMs);

describe('retries listen to the receiver', () => {
  it('503 with Retry-After: 120 waits 120 s, not the 1 s backoff', async () => {
    const d = await firstAttempt((await replying(503, { 'retry-after': '120' })).url);
    expect(d).toMatchObject({ status: 'PENDING', attempts: 1, httpStatus: 503 });
    expect(waitAfterFirst(d)).toBe(120_000);
  });

  it('429 with Retry-After as an HTTP date waits until then', async () => {
    const at = new Date(Math.ceil((clock.now().getTime() + 300_000) / 1000) * 1000);
    const d = await firstAttempt((await replying(429, { 'retry-after': at.toUTCString() })).url);
    expect(d).toMatchObject({ status: 'PENDING', httpStatus: 429 });
    expect(Math.abs(Date.parse(d.nextAttemptAt) - at.getTime())).toBeLessThanOrEqual(1000);
  });

  it('a Retry-After beyond WEBHOOK_RETRY_AFTER_MAX_MS is capped', async () => {
    const d = await firstAttempt((await replying(503, { 'retry-after': '86400' })).url);
    expect(waitAfterFirst(d)).toBe(RETRY_AFTER_MAX_MS);
  });

  it('410 Gone fails at once: one attempt, no retry, with its kind', async () => {
    const r = await replying(410);
    const d = await firstAttempt(r.url);
    expect(d).toMatchObject({ status: 'FAILED', attempts: 1, maxAttempts: 3, httpStatus: 410, failureKind: 'HTTP_ERROR', nextAttemptAt: null });
    expect(d.failureReason).toBe('Attempt 1 of 3 failed; a retry cannot help, so none is made: HTTP 410 Gone');
    clock.advance(3_600_000);
    expect(r.requests).toHaveLength(1);
  });
});

describe('a reply that is not HTTP', () => {
  it('is a CONNECTION_ERROR that says so, not "(unknown error)"', async () => {
    const banner = await createTcpReceiver((socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n'));
    try {
      const d = await firstAttempt(banner.url);
      expect(d.attemptLog[0]).toMatchObject({ failureKind: 'CONNECTION_ERROR', httpStatus: null });
      expect(d.attemptLog[0].error).toMatch(/^127\.0\.0\.1:\d+ did not answer with HTTP \(.+\)$/);
      expect(d.attemptLog[0].error).not.toMatch(/unknown error|HTTPParserError/);
    } finally {
      await banner.close();
    }
  });
});

describe('reading the answer', () => {
  it('a body dripped without end is cut once the status is in: the send ends on the body timer, not the timeout', async () => {
    const bodyClock = manualClock();
    let drip: NodeJS.Timeout | undefined;
    let cut!: () => void;
    const connectionCut = new Promise<void>((resolve) => (cut = resolve));
    // Status and headers, then a body one byte at a time that never ends: only the body timer can end the send.
    const dripping = await createTcpReceiver((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n');
      drip = setInterval(() => socket.write('x'), 20);
      socket.on('close', () => (clearInterval(drip), cut()));
    });
    const sender = createHttpSender({ timeoutMs: 60_000, allowPrivateNetworks: true, clock: bodyClock });
    try {
      const sent = sender.send({ url: dripping.url, deliveryId: 'd1', event: 'webhook.ping', body: '{}', secret: null });
      // The send's timeout and the body reader's timer: the status is in.
      await eventually(() => expect(bodyClock.pendingTimers).toBe(2));
      bodyClock.advance(RESPONSE_BODY_TIMEOUT_MS);
      const outcome = await sent;
      expect(outcome).toMatchObject({ delivered: true, httpStatus: 200, failureKind: null });
      expect(outcome.durationMs).toBe(RESPONSE_BODY_TIMEOUT_MS);
      await connectionCut;
    } finally {
      clearInterval(drip);
      await sender.close();
      await dripping.close();
    }
  });
  it('a 2xx whose body breaks off (connection reset) is delivered, keeping what arrived of the body', async () => {
    // Answers 200, sends part of the body it announced, then resets the connection.
    const breaking = await createTcpReceiver((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\nreceived-ok');
      setImmediate(() => socket.resetAndDestroy());
    });
    const sender = createHttpSender({ timeoutMs: 60_000, allowPrivateNetworks: true });
    try {
      const outcome = await sender.send({ url: breaking.url, deliveryId: 'd2', event: 'webhook.ping', body: '{}', secret: null });
      // Failing it would retry a delivery the receiver already processed.
      expect(outcome).toMatchObject({ delivered: true, httpStatus: 200, failureKind: null, error: null });
      expect(outcome.details?.responseBody).toBe('received-ok');
    } finally {
      await sender.close();
      await breaking.close();
    }
  });
});
