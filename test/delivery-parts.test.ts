import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { deliveryAttempts, users, webhookDeliveries } from '../src/db/tables.js';
import { AttemptRecorder } from '../src/delivery/attempt-recorder.js';
import { Claimer } from '../src/delivery/claimer.js';
import { claimDue, enqueueDeliveries, leaseRanOut, renewLeases, type DeliveryRow } from '../src/delivery/delivery-queue.js';
import type { AttemptOutcome } from '../src/delivery/http-sender.js';
import { createLogger } from '../src/logger.js';
import { movableClock, type TestClock } from './helpers/clock.js';
import { createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

// The worker's parts on their own, against a real database: the claimer (what it takes, when it
// sleeps, what it gives back) and the attempt recorder (lease re-check and result, group-committed).

const LEASE_MS = 60_000;
let source: TestDatabaseSource;
let database: Database;
let clock: TestClock;

beforeAll(async () => {
  source = await createTestDatabaseSource();
  database = await source.open();
});
afterAll(async () => {
  await database.close();
  await source.destroy();
});
beforeEach(async () => {
  clock = movableClock();
  await database.db.delete(webhookDeliveries);
});

async function newUser(): Promise<string> {
  const [user] = await database.db
    .insert(users)
    .values({ name: 'parts', email: `${crypto.randomUUID()}@example.test`, createdAt: clock.now() })
    .returning();
  return user!.id;
}

async function enqueue(userId: string, count: number, dueInMs = 0): Promise<DeliveryRow[]> {
  const now = new Date(clock.now().getTime() + dueInMs);
  const input = { userId, url: 'http://127.0.0.1:1/hook', event: 'test', body: '{}', summary: 'parts', maxAttempts: 3, now, maxDeliveries: 1000 };
  return database.db.transaction((tx) => enqueueDeliveries(tx, Array.from({ length: count }, () => input)));
}

interface Harness {
  claimer: Claimer;
  accepted: DeliveryRow[][];
  /** Resolves with the next batch handed over (empty batches included). */
  nextBatch(): Promise<DeliveryRow[]>;
}

function claimer(options: { wanted?: () => number; exclusions?: () => { ids: string[]; users: string[] }; batchSize?: number; owner?: string } = {}): Harness {
  const accepted: DeliveryRow[][] = [];
  const waiting: ((rows: DeliveryRow[]) => void)[] = [];
  const harness: Harness = {
    accepted,
    nextBatch: () => new Promise((resolve) => waiting.push(resolve)),
    claimer: new Claimer({
      db: database.db,
      clock,
      logger: createLogger('silent'),
      owner: options.owner ?? 'parts-worker',
      leaseMs: LEASE_MS,
      batchSize: options.batchSize ?? 50,
      retryMs: 1000,
      wanted: options.wanted ?? (() => 100),
      exclusions: options.exclusions ?? (() => ({ ids: [], users: [] })),
      accept: (rows) => {
        accepted.push(rows);
        waiting.shift()?.(rows);
      },
      localWakeAt: () => null,
    }),
  };
  return harness;
}

/** Wakes the claimer and collects batches until it reports an empty one (nothing left it may take). */
async function drain(h: Harness): Promise<DeliveryRow[][]> {
  const batches: DeliveryRow[][] = [];
  let next = h.nextBatch();
  h.claimer.wake();
  for (;;) {
    const batch = await next;
    if (batch.length === 0) return batches;
    batches.push(batch);
    next = h.nextBatch();
  }
}

describe('the claimer', () => {
  it('takes due rows in batches of at most batchSize, oldest first, leased to its owner', async () => {
    const user = await newUser();
    const rows = await enqueue(user, 7);
    const h = claimer({ batchSize: 3 });
    const batches = await drain(h);
    await h.claimer.stop();
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(batches.flat().map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(batches.flat().every((r) => r.leaseOwner === 'parts-worker')).toBe(true);
  });

  it('takes no more than the worker wants, and nothing held or excluded', async () => {
    const [held, excluded, other] = [await newUser(), await newUser(), await newUser()];
    const heldRows = await enqueue(held, 2);
    await enqueue(excluded, 2);
    const otherRows = await enqueue(other, 5);
    let budget = 3;
    const h = claimer({
      wanted: () => budget,
      exclusions: () => ({ ids: [heldRows[0]!.id], users: [excluded] }),
    });
    const batch = h.nextBatch();
    h.claimer.wake();
    const first = await batch;
    budget = 0;
    await h.claimer.stop();
    // Oldest first among what may be taken: the second held row, then the other user's.
    expect(first.map((r) => r.id)).toEqual([heldRows[1]!.id, otherRows[0]!.id, otherRows[1]!.id]);
    const leased = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.leaseOwner, 'parts-worker'));
    expect(leased).toHaveLength(3);
  });

  it('sleeps until the next row is due on its clock, then claims it', async () => {
    const user = await newUser();
    const [later] = await enqueue(user, 1, 30_000);
    const h = claimer();
    expect(await drain(h)).toEqual([]);
    const batch = h.nextBatch();
    clock.advance(30_000);
    expect((await batch).map((r) => r.id)).toEqual([later!.id]);
    await h.claimer.stop();
  });

  it('leaves rows another owner holds until their lease runs out', async () => {
    const user = await newUser();
    const [row] = await enqueue(user, 1);
    await claimDue(database.db, { owner: 'crashed', now: clock.now(), leaseMs: LEASE_MS, limit: 10 });
    const h = claimer();
    expect(await drain(h)).toEqual([]);
    const batch = h.nextBatch();
    clock.advance(LEASE_MS + 1);
    expect((await batch).map((r) => r.id)).toEqual([row!.id]);
    await h.claimer.stop();
  });

  it('after stop, a wake claims nothing', async () => {
    const user = await newUser();
    await enqueue(user, 2);
    const h = claimer();
    await h.claimer.stop();
    h.claimer.wake();
    await h.claimer.stop();
    expect(h.accepted).toEqual([]);
    const leased = await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.leaseOwner, 'parts-worker'));
    expect(leased).toEqual([]);
  });
});

const outcome = (delivered: boolean, startedAt: Date, extra: Partial<AttemptOutcome> = {}): AttemptOutcome => ({
  delivered,
  httpStatus: delivered ? 200 : 500,
  error: delivered ? null : 'HTTP 500',
  failureKind: delivered ? null : 'HTTP_ERROR',
  permanent: null,
  retryAfterMs: null,
  startedAt,
  durationMs: 40,
  ...extra,
});

describe('held rows a claim must exclude', () => {
  it('only those whose lease ran out are named; those under a running lease are not taken anyway', async () => {
    const user = await newUser();
    const rows = await enqueue(user, 3);
    const held = await claimDue(database.db, { owner: 'parts-worker', now: clock.now(), leaseMs: LEASE_MS, limit: 2 });
    expect(held.map((r) => r.id)).toEqual([rows[0]!.id, rows[1]!.id]);
    clock.advance(LEASE_MS + 1);
    // The second is renewed (as before a late send); the first's lease has run out, e.g. during a long send.
    const [renewed] = await renewLeases(database.db, { rows: [held[1]!], owner: 'parts-worker', now: clock.now(), leaseMs: LEASE_MS });
    const now = clock.now();
    const inMemory = [held[0]!, renewed!];
    const named = inMemory.filter((row) => leaseRanOut(row, now.getTime())).map((row) => row.id);
    expect(named).toEqual([rows[0]!.id]);
    const taken = await claimDue(database.db, { owner: 'parts-worker', now, leaseMs: LEASE_MS, limit: 10, exclude: named });
    expect(taken.map((r) => r.id)).toEqual([rows[2]!.id]);
  });
});

describe('the attempt recorder', () => {
  const recorder = (owner = 'parts-worker') =>
    new AttemptRecorder(database.db, clock, { owner, leaseMs: LEASE_MS, retryBaseMs: 1000, retryAfterMaxMs: 60_000 });

  it('renews the leases it holds and refuses rows taken by another owner', async () => {
    const user = await newUser();
    await enqueue(user, 2);
    const [mine, theirs] = await claimDue(database.db, { owner: 'parts-worker', now: clock.now(), leaseMs: 1000, limit: 10 });
    // The lease on `theirs` ran out and another worker took it.
    clock.advance(2000);
    await database.db.update(webhookDeliveries).set({ leaseOwner: 'other' }).where(eq(webhookDeliveries.id, theirs!.id));
    const r = recorder();
    const before = clock.now().getTime();
    const [renewed, refused] = await Promise.all([r.renew(mine!), r.renew(theirs!)]);
    // Renewed from the clock's now at the write (the movable clock also runs in real time).
    expect(renewed?.leaseUntil?.getTime()).toBeGreaterThanOrEqual(before + LEASE_MS);
    expect(renewed?.leaseUntil?.getTime()).toBeLessThanOrEqual(clock.now().getTime() + LEASE_MS);
    expect(refused).toBeNull();
  });

  it('records concurrent results, each timed from the end of its attempt, and tracks what is unrecorded', async () => {
    const user = await newUser();
    await enqueue(user, 3);
    const claimed = await claimDue(database.db, { owner: 'parts-worker', now: clock.now(), leaseMs: LEASE_MS, limit: 10 });
    const r = recorder();
    const started = clock.now();
    const writes = [
      r.record(claimed[0]!, claimed[0]!.url, outcome(true, started)),
      r.record(claimed[1]!, claimed[1]!.url, outcome(false, started)),
      r.record(claimed[2]!, 'http://127.0.0.1:2/moved', outcome(true, started)),
    ];
    expect(r.unrecordedIds.sort()).toEqual(claimed.map((c) => c.id).sort());
    const [delivered, retrying, moved] = await Promise.all(writes);
    expect(r.unrecordedIds).toEqual([]);
    expect(r.backlog).toBe(0);

    const ended = started.getTime() + 40;
    expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 1, leaseOwner: null });
    expect(delivered!.completedAt!.getTime()).toBe(ended);
    expect(retrying).toMatchObject({ status: 'PENDING', attempts: 1, leaseOwner: null });
    expect(retrying!.nextAttemptAt!.getTime()).toBe(ended + 1000);
    const attempts = await database.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, moved!.id));
    expect(attempts.map((a) => a.url)).toEqual(['http://127.0.0.1:2/moved']);
  });

  it.each([
    ['leased to another worker', { leaseOwner: 'other' }],
    ['ended meanwhile, lease still naming this worker', { status: 'FAILED' }],
    ['attempted meanwhile', { attempts: 1 }],
  ] as const)('writes nothing for a row that changed meanwhile: %s', async (_change, change) => {
    const user = await newUser();
    await enqueue(user, 1);
    const [row] = await claimDue(database.db, { owner: 'parts-worker', now: clock.now(), leaseMs: LEASE_MS, limit: 1 });
    await database.db.update(webhookDeliveries).set(change).where(eq(webhookDeliveries.id, row!.id));
    expect(await recorder().record(row!, row!.url, outcome(true, clock.now()))).toBeNull();
    expect(await database.db.select().from(deliveryAttempts).where(eq(deliveryAttempts.deliveryId, row!.id))).toEqual([]);
  });
});
