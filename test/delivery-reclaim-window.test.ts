import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../src/clock.js';
import type { Database, Db } from '../src/db/client.js';
import { tables, users, webhookDeliveries } from '../src/db/tables.js';
import { enqueueDeliveries } from '../src/delivery/delivery-queue.js';
import { createDeliveryWorker } from '../src/delivery/delivery-worker.js';
import { createLogger } from '../src/logger.js';
import { manualClock } from './helpers/clock.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

// A worker sends a row, the receiver fails it, and its retry is due at once (retry base 0, a clock
// that stands still). The result write commits PENDING with the lease cleared; a claim the worker
// issues before that write has returned must not take the row, or it is sent again while the
// worker still holds its first attempt. The worker runs on one connection (PGlite has only one):
// the claim issued right after the write runs after the write has committed, every time.
const LEASE_MS = 60_000;
const TIMEOUT_MS = 10_000;

let source: TestDatabaseSource;
let database: Database;
let workerDb: Db;
let closeWorkerDb = async () => {};
let receiver: Receiver;
let letGo!: () => void;
const firstAnswer = new Promise<void>((resolve) => (letGo = resolve));

beforeAll(async () => {
  source = await createTestDatabaseSource();
  database = await source.open();
  if (source.url) {
    const client = postgres(source.url, { max: 1, onnotice: () => {}, fetch_types: false });
    workerDb = drizzle(client, { schema: tables }) as unknown as Db;
    closeWorkerDb = () => client.end({ timeout: 5 });
  } else workerDb = database.db;
  // The first attempt is held until the test lets go, then fails (a retry); the next is delivered.
  receiver = await createReceiver((_req, i) => (i === 0 ? { status: 500, until: firstAnswer } : { status: 200 }));
});
afterAll(async () => {
  letGo();
  await receiver?.close();
  await closeWorkerDb();
  await database?.close();
  await source?.destroy();
});

/** A clock standing still, which says when a timer of `ms` is set on it (the claimer going to sleep). */
function signallingClock() {
  const clock = manualClock();
  const waiters: { ms: number; resolve: () => void }[] = [];
  const signalling: Clock = {
    now: () => clock.now(),
    setTimer(fn, ms) {
      for (const w of waiters.filter((w) => w.ms === ms)) w.resolve();
      return clock.setTimer!(fn, ms);
    },
  };
  const timerSet = (ms: number) => new Promise<void>((resolve) => waiters.push({ ms, resolve }));
  return { clock: signalling, timerSet };
}

describe('a row whose result is being written', () => {
  it('is not claimed (and so not sent) again before the worker has that result back', async () => {
    const { clock, timerSet } = signallingClock();
    const [user] = await database.db
      .insert(users)
      .values({ name: 'reclaim', email: `${crypto.randomUUID()}@example.test`, createdAt: clock.now() })
      .returning();
    const input = { userId: user!.id, url: receiver.url, event: 'test', body: '{}', summary: 'reclaim', maxAttempts: 3, now: clock.now(), maxDeliveries: 100 };
    const [row] = await database.db.transaction((tx) => enqueueDeliveries(tx, [input]));

    let seenWhenRecorded!: (seen: { leaseOwner: string | null; requests: number }) => void;
    const firstRecorded = new Promise<{ leaseOwner: string | null; requests: number }>((resolve) => (seenWhenRecorded = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const claimerAsleep = timerSet(LEASE_MS);
    const worker = createDeliveryWorker({
      database: { db: workerDb, listen: database.listen },
      clock,
      logger: createLogger('silent'),
      config: {
        concurrency: 1,
        endpointConcurrency: 1,
        endpointBreakerFailures: 100,
        endpointBreakerCooldownMs: 60_000,
        batchSize: 1,
        leaseMs: LEASE_MS,
        retryBaseMs: 0,
        retryAfterMaxMs: 60_000,
        timeoutMs: TIMEOUT_MS,
        allowPrivateNetworks: true,
      },
      resolveEndpoint: async () => ({ url: receiver.url, secret: null, createdAt: new Date(0) }),
      // Called once the first result is back. The lease is read through the worker's own
      // connection, so after the claim it issued while that result was being written; then the
      // worker is held here, so that nothing else claims the row meanwhile.
      onRecorded: async (recorded) => {
        if (recorded.attempts !== 1) return;
        const [now] = await workerDb
          .select({ leaseOwner: webhookDeliveries.leaseOwner })
          .from(webhookDeliveries)
          .where(eq(webhookDeliveries.id, recorded.id));
        seenWhenRecorded({ leaseOwner: now!.leaseOwner, requests: receiver.requests.length });
        await released;
      },
    });
    await worker.start();
    try {
      await receiver.waitFor(1);
      // The claimer has nothing left to take and sleeps until the row's lease runs out: the claim
      // the failed send triggers is the next one, issued right after the result write.
      await claimerAsleep;
      letGo();

      expect(await firstRecorded).toEqual({ leaseOwner: null, requests: 1 });
      release();
      // Once the worker has let go, the retry is claimed and sent: two sends in all, one per attempt.
      await receiver.waitFor(2);
      const settled = await eventually(async () => {
        const [now] = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, row!.id));
        expect(now!.status).toBe('DELIVERED');
        return now!;
      });
      expect(settled.attempts).toBe(2);
      expect(receiver.requests.map((r) => r.headers['x-webhook-delivery'])).toEqual([row!.id, row!.id]);
    } finally {
      release();
      await worker.stop();
    }
  });
});
