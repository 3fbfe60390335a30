import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryAttempts, webhookDeliveries } from '../src/db/tables.js';
import { claimDue } from '../src/delivery/delivery-queue.js';
import type { DeliveryWorker } from '../src/delivery/delivery-worker.js';
import { movableClock } from './helpers/clock.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const LEASE_MS = 60_000;
const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;
const DELETE = `mutation { deleteWebhook { __typename } }`;

let t: TestApp;
let receiver: Receiver;
beforeAll(async () => {
  t = await createTestApp({
    env: { DELIVERY_LEASE_MS: String(LEASE_MS), WEBHOOK_MAX_DELIVERIES: '1000', DELIVERY_CONCURRENCY: '8', DELIVERY_BATCH_SIZE: '10' },
  });
});
afterAll(async () => {
  await t.close();
});
const workers: DeliveryWorker[] = [];
const startWorker = async (options?: Parameters<TestApp['startWorker']>[0]) => {
  const worker = await t.startWorker(options);
  workers.push(worker);
  return worker;
};
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
  await receiver?.close();
});

async function userWithWebhook(url: string) {
  const user = await t.register();
  await t.gql(SET, { apiKey: user.apiKey, variables: { input: { url } } });
  return user;
}
const ping = async (apiKey: string): Promise<string> => (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
const row = async (id: string) => (await t.database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)))[0]!;
const attemptsOf = (id: string) => t.database.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, id));

describe('the durable queue', () => {
  it('a worker that dies holding a lease: another delivers the same delivery id once the lease expires', async () => {
    receiver = await createReceiver();
    const a = await userWithWebhook(receiver.url);
    const stuckId = await ping(a.apiKey);
    const [claimed] = await claimDue(t.database.db, { owner: 'crashed-worker', now: new Date(), leaseMs: LEASE_MS, limit: 10 });
    expect(claimed!.id).toBe(stuckId);

    const clock = movableClock();
    await startWorker({ clock, database: await t.otherConnection() });
    const b = await userWithWebhook(receiver.url);
    const laterId = await ping(b.apiKey);
    await receiver.waitFor(1);
    // The later delivery went out while the earlier one was still leased by the dead worker.
    expect(receiver.requests.map((r) => r.headers['x-webhook-delivery'])).toEqual([laterId]);
    expect((await row(stuckId)).status).toBe('PENDING');

    clock.advance(LEASE_MS + 1);
    await receiver.waitFor(2);
    expect(receiver.requests.map((r) => r.headers['x-webhook-delivery'])).toEqual([laterId, stuckId]);
    await eventually(async () => expect((await row(stuckId)).status).toBe('DELIVERED'));
    expect(await attemptsOf(stuckId)).toHaveLength(1);
  });

  it('two workers, 200 deliveries: each delivered, no attempt sent twice', async () => {
    receiver = await createReceiver();
    // The receiver shares this process with both workers and the database: on a busy machine an
    // answer can take longer than the default 10 s timeout, and the retry would be a second
    // attempt this test counts as a double send. The lease still outlasts every send.
    const env = { WEBHOOK_TIMEOUT_MS: String(LEASE_MS - 4_000) };
    await startWorker({ env, workerId: 'worker-one' });
    await startWorker({ env, workerId: 'worker-two', database: await t.otherConnection() });
    const users = await Promise.all(Array.from({ length: 20 }, () => userWithWebhook(receiver.url)));
    const ids: string[] = [];
    for (let round = 0; round < 10; round++) ids.push(...(await Promise.all(users.map((u) => ping(u.apiKey)))));
    expect(new Set(ids).size).toBe(200);

    await receiver.waitFor(200);
    await eventually(async () => {
      const rows = await t.database.db.select().from(webhookDeliveries);
      expect(rows.filter((r) => ids.includes(r.id) && r.status === 'DELIVERED')).toHaveLength(200);
    });
    const received = receiver.requests.map((r) => r.headers['x-webhook-delivery']);
    expect(received).toHaveLength(200);
    expect(new Set(received)).toEqual(new Set(ids));
    const attempts = await t.database.db.select().from(deliveryAttempts);
    expect(attempts.filter((a) => ids.includes(a.deliveryId))).toHaveLength(200);
    const senders = new Set(t.logs.filter((l) => l.msg === 'delivery attempt' && ids.includes(l.deliveryId as string)).map((l) => l.workerId));
    expect(senders).toEqual(new Set(['worker-one', 'worker-two']));
  });

  it('deleting the webhook ends its pending deliveries as FAILED; nothing is sent', async () => {
    receiver = await createReceiver();
    const a = await userWithWebhook(receiver.url);
    const cancelled = [await ping(a.apiKey), await ping(a.apiKey)];
    expect((await t.gql(DELETE, { apiKey: a.apiKey })).body.data!.deleteWebhook.__typename).toBe('DeleteWebhookSuccess');
    for (const id of cancelled) {
      expect(await row(id)).toMatchObject({ status: 'FAILED', failureReason: 'Webhook deleted before delivery', attempts: 0, nextAttemptAt: null });
      expect((await row(id)).completedAt).toBeInstanceOf(Date);
    }

    await startWorker();
    const b = await userWithWebhook(receiver.url);
    const laterId = await ping(b.apiKey);
    await receiver.waitFor(1);
    await eventually(async () => expect((await row(laterId)).status).toBe('DELIVERED'));
    expect(receiver.requests.map((r) => r.headers['x-webhook-delivery'])).toEqual([laterId]);
  });

  it('rows claimed ahead whose lease ran out are not sent again: two workers, each delivery received once', async () => {
    // Each request waits for the gate open when it arrived; the clock, not real time, ends the leases.
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    receiver = await createReceiver(() => ({ status: 200, until: gate }));
    const openGate = (keepOpen = false) => {
      release();
      gate = keepOpen ? Promise.resolve() : new Promise<void>((resolve) => (release = resolve));
    };
    const a = await userWithWebhook(receiver.url);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push(await ping(a.apiKey));
    // A lease that outlasts no send (timeout plus margin): every send re-checks and renews its row first.
    const env = { DELIVERY_LEASE_MS: String(LEASE_MS), WEBHOOK_TIMEOUT_MS: String(LEASE_MS - 4_000), DELIVERY_CONCURRENCY: '1', DELIVERY_BATCH_SIZE: '5' };
    const clock = movableClock();
    const one = await startWorker({ env, clock, workerId: 'lease-one' });
    await receiver.waitFor(1);
    const claimedByOne = await eventually(async () => {
      const held = (await Promise.all(ids.map(row))).filter((r) => r.leaseOwner === 'lease-one').map((r) => r.id);
      expect(held).toHaveLength(5);
      return held;
    });

    // Half a lease on, the first send ends and the second starts, renewing its own lease only.
    clock.advance(LEASE_MS / 2);
    openGate();
    await receiver.waitFor(2);
    // The rows lease-one claimed ahead have waited out their lease: lease-two takes them.
    clock.advance(LEASE_MS / 2 + 1);
    const two = await startWorker({ env, clock, workerId: 'lease-two', database: await t.otherConnection() });
    const [, , taken] = await receiver.waitFor(3);
    expect(claimedByOne.slice(2)).toContain(taken!.headers['x-webhook-delivery']);

    openGate(true);
    await eventually(async () => expect((await Promise.all(ids.map(row))).map((r) => r.status)).toEqual(ids.map(() => 'DELIVERED')));
    await Promise.all([one.stop(), two.stop()]);
    expect(receiver.requests.map((r) => r.headers['x-webhook-delivery']).sort()).toEqual([...ids].sort());
    for (const id of ids) expect(await attemptsOf(id)).toHaveLength(1);
    const notSent = t.logs.filter((l) => l.msg === 'delivery no longer held by this worker; not sent' && l.workerId === 'lease-one');
    expect(notSent.map((l) => l.deliveryId)).toContain(taken!.headers['x-webhook-delivery']);
  });

  it('a delivery cancelled by deleteWebhook while claimed ahead is never sent, not even to a new webhook', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    receiver = await createReceiver(() => ({ status: 200, until: held }));
    const next = await createReceiver();
    try {
      const a = await userWithWebhook(receiver.url);
      const [inFlight, waiting] = [await ping(a.apiKey), await ping(a.apiKey)];
      await startWorker({ env: { DELIVERY_CONCURRENCY: '1', DELIVERY_BATCH_SIZE: '5' } });
      // The worker sends the first and holds the second, claimed with it, until a slot frees.
      await receiver.waitFor(1);
      expect(receiver.requests[0]!.headers['x-webhook-delivery']).toBe(inFlight);
      expect((await row(waiting)).leaseOwner).not.toBeNull();

      expect((await t.gql(DELETE, { apiKey: a.apiKey })).body.data!.deleteWebhook.__typename).toBe('DeleteWebhookSuccess');
      await t.gql(SET, { apiKey: a.apiKey, variables: { input: { url: next.url } } });
      const later = await ping(a.apiKey);
      release();

      // One worker, one slot, oldest first: the cancelled row is reached before the later one.
      await next.waitFor(1);
      await eventually(async () => expect((await row(later)).status).toBe('DELIVERED'));
      expect(next.requests.map((r) => r.headers['x-webhook-delivery'])).toEqual([later]);
      expect(receiver.requests).toHaveLength(1);
      expect(await row(waiting)).toMatchObject({ status: 'FAILED', failureReason: 'Webhook deleted before delivery', attempts: 0 });
      expect(await attemptsOf(waiting)).toEqual([]);
    } finally {
      release();
      await next.close();
    }
  });

  it('on shutdown a worker finishes the send in flight and gives back what it had not started', async () => {
    receiver = await createReceiver(() => ({ status: 200, delayMs: 150 }));
    const a = await userWithWebhook(receiver.url);
    const ids = [await ping(a.apiKey), await ping(a.apiKey), await ping(a.apiKey)];
    const worker = await startWorker({ env: { DELIVERY_CONCURRENCY: '1', DELIVERY_BATCH_SIZE: '5' } });
    await receiver.waitFor(1);
    await worker.stop();
    const rows = await Promise.all(ids.map(row));
    expect(rows.map((r) => r.status)).toEqual(['DELIVERED', 'PENDING', 'PENDING']);
    expect(rows.map((r) => r.leaseOwner)).toEqual([null, null, null]);
    expect(receiver.requests).toHaveLength(1);

    await startWorker();
    await receiver.waitFor(3);
    expect(receiver.requests[0]!.headers['x-webhook-delivery']).toBe(ids[0]);
    expect(new Set(receiver.requests.slice(1).map((r) => r.headers['x-webhook-delivery']))).toEqual(new Set(ids.slice(1)));
  });
});
