import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryAttempts } from '../src/db/tables.js';
import { freePort } from './helpers/ports.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;
const DETAILS = `{ webhookDeliveries { deliveries { id status
  attemptLog { number httpStatus failureKind durationMs responseMs startedAt requestHeaders { name value } responseHeaders { name value } responseBody } } } }`;

let t: TestApp;
let receiver: Receiver;
let reply: { status: number; headers?: Record<string, string>; body?: string | Buffer } = { status: 200 };
beforeAll(async () => {
  t = await createTestApp({ env: { WEBHOOK_MAX_ATTEMPTS: '1', WEBHOOK_MAX_DELIVERIES: '2' } });
  receiver = await createReceiver(() => reply);
  await t.startWorker();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function finishedPing(apiKey: string) {
  const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
  return eventually(async () => {
    const deliveries = (await t.gql(DETAILS, { apiKey })).body.data!.webhookDeliveries.deliveries;
    const delivery = deliveries.find((d: { id: string }) => d.id === id);
    expect(delivery.status).not.toBe('PENDING');
    return delivery;
  });
}

const asObject = (headers: { name: string; value: string }[]) => Object.fromEntries(headers.map((h) => [h.name, h.value]));

describe('attempt details', () => {
  it('keeps the request headers sent, content-type and retry-after, and the first 2 KB of the answer', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'details-secret' } } });
    // 2047 ASCII bytes, then a two-byte character cut by the 2048-byte limit, then more.
    reply = {
      status: 503,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '7', 'x-receiver-internal': 'not kept' },
      body: `${'a'.repeat(2047)}é${'b'.repeat(5000)}`,
    };
    const delivery = await finishedPing(apiKey);
    const [attempt] = delivery.attemptLog;
    expect(attempt.httpStatus).toBe(503);
    expect(attempt.responseHeaders).toEqual([
      { name: 'content-type', value: 'text/plain; charset=utf-8' },
      { name: 'retry-after', value: '7' },
    ]);
    // The cut character became U+FFFD (three bytes), which does not fit the 2048 stored bytes.
    expect(attempt.responseBody).toBe('a'.repeat(2047));
    expect(attempt.responseMs).toBeGreaterThanOrEqual(0);
    expect(attempt.responseMs).toBeLessThanOrEqual(attempt.durationMs);

    const received = receiver.requests.find((r) => r.headers['x-webhook-delivery'] === delivery.id)!;
    const sent = asObject(attempt.requestHeaders);
    expect(Object.keys(sent).sort()).toEqual(
      ['content-type', 'user-agent', 'x-webhook-event', 'x-webhook-delivery', 'x-webhook-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature'].sort(),
    );
    for (const [name, value] of Object.entries(sent)) expect(received.headers[name]).toBe(value);
  });

  it("keeps a redirect's location: the attempt failed (redirects are not followed), and this is where it pointed", async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    reply = { status: 301, headers: { location: 'https://receiver.example/new-path' }, body: '' };
    const [attempt] = (await finishedPing(apiKey)).attemptLog;
    expect(attempt.httpStatus).toBe(301);
    expect(attempt.failureKind).toBe('REDIRECT');
    expect(attempt.responseHeaders).toContainEqual({ name: 'location', value: 'https://receiver.example/new-path' });
  });

  it('keeps NUL bytes out of the stored body and records no answer when the connection failed', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    reply = { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: 'ok\u0000done' };
    const delivered = await finishedPing(apiKey);
    expect(delivered.attemptLog[0].responseBody).toBe('ok\uFFFDdone');

    await t.gql(SET, { apiKey, variables: { input: { url: `http://127.0.0.1:${await freePort()}/hook` } } });
    const failed = await finishedPing(apiKey);
    expect(failed.attemptLog[0]).toMatchObject({ httpStatus: null, responseHeaders: [], responseBody: null, responseMs: null });
    expect(asObject(failed.attemptLog[0].requestHeaders)['x-webhook-delivery']).toBe(failed.id);
  });

  it('stores at most 2048 bytes of a binary answer, though each invalid byte reads as a three-byte U+FFFD', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    reply = { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4096, 0xff) };
    const delivered = await finishedPing(apiKey);
    const [stored] = await t.database.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, delivered.id));
    expect(Buffer.byteLength(stored!.responseBody!)).toBeLessThanOrEqual(2048);
    expect(stored!.responseBody).toBe('\uFFFD'.repeat(682));
  });

  it('goes with its delivery when the history is pruned', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url } } });
    reply = { status: 200, body: 'fine' };
    const first = await finishedPing(apiKey);
    expect(await t.database.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, first.id))).toHaveLength(1);
    await finishedPing(apiKey);
    await finishedPing(apiKey); // the history keeps 2: the first goes
    expect(await t.database.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, first.id))).toHaveLength(0);
  });
});
