import { createHmac } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhooks } from '../src/db/tables.js';
import type { DeliveryWorker } from '../src/delivery/delivery-worker.js';
import { movableClock } from './helpers/clock.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename
  ... on SetWebhookSuccess { webhook { hasSecret secretRotatedAt previousSecretExpiresAt } } } }`;
const ROTATE = `mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) { __typename
  ... on RotateWebhookSecretSuccess { secret webhook { url hasSecret secretRotatedAt previousSecretExpiresAt } }
  ... on WebhookNotFound { message }
  ... on ValidationError { message fields { path message } } } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;
const WEBHOOK = `{ webhook { hasSecret secretRotatedAt previousSecretExpiresAt } }`;

const MINUTE = 60_000;
const hub = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

// The clock starts four minutes behind real time: standardwebhooks checks webhook-timestamp
// against the real time (±5 min), so every moment this test moves to must stay within that.
const clock = movableClock();
clock.advance(-4 * MINUTE);
let t: TestApp;
let receiver: Receiver;
let worker: DeliveryWorker;
beforeAll(async () => {
  t = await createTestApp({ clock });
  receiver = await createReceiver();
  worker = await t.startWorker();
});
afterAll(async () => {
  await worker.stop();
  await receiver.close();
  await t.close();
});

async function ping(apiKey: string) {
  const id = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
  const request = await eventually(() => {
    const found = receiver.requests.find((r) => r.headers['x-webhook-delivery'] === id);
    expect(found).toBeDefined();
    return found!;
  });
  return { body: request.body, headers: request.headers as Record<string, string> };
}

describe('rotateWebhookSecret', () => {

  it('signs with the old and the new secret during the overlap, only the new one after it', async () => {
    const old = `whsec_${Buffer.from('the-old-secret-bytes-0123456789').toString('base64')}`;
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: old } } });

    const rotatedAt = clock.now();
    const res = (await t.gql(ROTATE, { apiKey, variables: { input: { overlapSeconds: 300 } } })).body.data!.rotateWebhookSecret;
    expect(res.__typename).toBe('RotateWebhookSecretSuccess');
    const fresh: string = res.secret;
    expect(fresh).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(fresh.slice(6), 'base64')).toHaveLength(32);
    expect(Date.parse(res.webhook.secretRotatedAt)).toBeGreaterThanOrEqual(rotatedAt.getTime());
    expect(Date.parse(res.webhook.previousSecretExpiresAt) - Date.parse(res.webhook.secretRotatedAt)).toBe(300_000);

    const during = await ping(apiKey);
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    // A receiver that knows only the old secret, and one that already has the new one: both verify.
    expect(new Webhook(old).verify(during.body, during.headers)).toMatchObject({ event: 'webhook.ping' });
    expect(new Webhook(fresh).verify(during.body, during.headers)).toMatchObject({ event: 'webhook.ping' });
    expect(during.headers['x-webhook-signature']).toBe(hub(fresh, during.body));

    clock.advance(6 * MINUTE);
    const after = await ping(apiKey);
    expect(after.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(new Webhook(fresh).verify(after.body, after.headers)).toMatchObject({ event: 'webhook.ping' });
    expect(() => new Webhook(old).verify(after.body, after.headers)).toThrow();
    expect(after.headers['x-webhook-signature']).toBe(hub(fresh, after.body));
  });

  it('takes a given secret, overlaps 24 h by default, and keeps both encrypted at rest', async () => {
    const { apiKey, userId } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'first-plain-secret' } } });
    const res = (await t.gql(ROTATE, { apiKey, variables: { input: { secret: 'second-plain-secret' } } })).body.data!.rotateWebhookSecret;
    expect(res.secret).toBe('second-plain-secret');
    expect(Date.parse(res.webhook.previousSecretExpiresAt) - Date.parse(res.webhook.secretRotatedAt)).toBe(86_400_000);
    const rows = await t.database.db.select().from(webhooks);
    const row = rows.find((r) => r.userId === userId)!;
    expect(row.previousSecretCiphertext).not.toBeNull();
    expect(JSON.stringify(row)).not.toContain('first-plain-secret');
    expect(JSON.stringify(row)).not.toContain('second-plain-secret');
    const signed = await ping(apiKey);
    expect(new Webhook(Buffer.from('first-plain-secret'), { format: 'raw' }).verify(signed.body, signed.headers)).toBeTruthy();
    expect(new Webhook(Buffer.from('second-plain-secret'), { format: 'raw' }).verify(signed.body, signed.headers)).toBeTruthy();
  });

  it('with overlapSeconds 0 replaces the secret at once', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'gone-at-once' } } });
    const res = (await t.gql(ROTATE, { apiKey, variables: { input: { overlapSeconds: 0 } } })).body.data!.rotateWebhookSecret;
    expect(res.webhook.previousSecretExpiresAt).toBeNull();
    const signed = await ping(apiKey);
    expect(signed.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(new Webhook(res.secret).verify(signed.body, signed.headers)).toBeTruthy();
  });

  it('an undecryptable previous secret is skipped with a warning; the current one still signs', async () => {
    const { apiKey, userId } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'before-rotation' } } });
    const res = (await t.gql(ROTATE, { apiKey, variables: { input: { secret: 'after-rotation' } } })).body.data!.rotateWebhookSecret;
    expect(res.__typename).toBe('RotateWebhookSecretSuccess');
    // Sealed with a key this process does not have (e.g. SECRET_ENCRYPTION_KEY_PREVIOUS was dropped too early).
    await t.database.db.update(webhooks).set({ previousSecretKeyId: 'unknown-key' }).where(eq(webhooks.userId, userId));

    const signed = await ping(apiKey);
    expect(signed.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(new Webhook(Buffer.from('after-rotation'), { format: 'raw' }).verify(signed.body, signed.headers)).toBeTruthy();
    expect(signed.headers['x-webhook-signature']).toBe(hub('after-rotation', signed.body));
    expect(t.logs.some((l) => l.level === 'warn' && l.userId === userId && /previous one cannot be decrypted/.test(String(l.msg)))).toBe(true);
  });

  it('refuses bad input with field paths and changes nothing', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'unchanged' } } });
    for (const [input, path] of [
      [{ secret: '' }, ['input', 'secret']],
      [{ secret: 'x'.repeat(257) }, ['input', 'secret']],
      [{ overlapSeconds: -1 }, ['input', 'overlapSeconds']],
      [{ overlapSeconds: 31 * 86_400 }, ['input', 'overlapSeconds']],
    ] as const) {
      const res = (await t.gql(ROTATE, { apiKey, variables: { input } })).body.data!.rotateWebhookSecret;
      expect(res.__typename).toBe('ValidationError');
      expect(res.fields[0].path).toEqual(path);
    }
    expect((await t.gql(WEBHOOK, { apiKey })).body.data!.webhook).toEqual({ hasSecret: true, secretRotatedAt: null, previousSecretExpiresAt: null });
    const signed = await ping(apiKey);
    expect(signed.headers['x-webhook-signature']).toBe(hub('unchanged', signed.body));
  });

  it('answers WebhookNotFound without a webhook', async () => {
    const { apiKey } = await t.register();
    const res = (await t.gql(ROTATE, { apiKey, variables: { input: {} } })).body.data!.rotateWebhookSecret;
    expect(res).toEqual({ __typename: 'WebhookNotFound', message: 'No webhook is configured for this account' });
  });
});

describe('setWebhook and the secret', () => {
  it('keeps the current secret when secret is omitted, removes it on an explicit null', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'kept-secret' } } });
    const kept = (await t.gql(SET, { apiKey, variables: { input: { url: `${receiver.url}?v=2` } } })).body.data!.setWebhook;
    expect(kept.webhook.hasSecret).toBe(true);
    const signed = await ping(apiKey);
    expect(signed.headers['x-webhook-signature']).toBe(hub('kept-secret', signed.body));

    const removed = (await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: null } } })).body.data!.setWebhook;
    expect(removed.webhook.hasSecret).toBe(false);
    const unsigned = await ping(apiKey);
    expect(unsigned.headers).not.toHaveProperty('x-webhook-signature');
    expect(unsigned.headers).not.toHaveProperty('webhook-signature');
  });

  it('a new secret given to setWebhook ends a rotation at once', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'a-secret' } } });
    await t.gql(ROTATE, { apiKey, variables: { input: { secret: 'b-secret' } } });
    const set = (await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: 'c-secret' } } })).body.data!.setWebhook;
    expect(set.webhook).toEqual({ hasSecret: true, secretRotatedAt: null, previousSecretExpiresAt: null });
    const signed = await ping(apiKey);
    expect(signed.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(signed.headers['x-webhook-signature']).toBe(hub('c-secret', signed.body));
  });
});
