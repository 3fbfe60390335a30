// `npx tsx bench/lifecycle-overhead.bench.ts`: what the endpoint lifecycle adds to the delivery
// hot path. The same worker delivers N rows to a local receiver (its own process) without and
// with the endpoint-health hook (auto-disable bookkeeping, one group-committed statement per
// batch), alternating A B A B in one run; attempt details (headers, body head) are on in both.
// BENCH_DELIVERIES (default 3000), BENCH_ROUNDS (3), DELIVERY_CONCURRENCY (16); DATABASE_URL = a fresh Postgres
// database (dropped afterwards), else in-memory PGlite. 127.0.0.1 only, bounded in count and time.
import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { systemClock } from '../src/clock.js';
import type { Database } from '../src/db/client.js';
import { users, webhookDeliveries, webhooks } from '../src/db/tables.js';
import { createDeliveryWorker } from '../src/delivery/delivery-worker.js';
import { createLogger } from '../src/logger.js';
import { endpointHealth } from '../src/modules/webhooks/endpoint-health.js';
import { createTestDatabaseSource } from '../test/helpers/test-database.js';
import { BENCH_WORKER_CONFIG, enqueuePings } from './worker-setup.js';

const N = Number(process.env.BENCH_DELIVERIES ?? 3000);
const CONCURRENCY = Number(process.env.DELIVERY_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PHASE_LIMIT_MS = 60_000;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

const receiver = fork(fileURLToPath(new URL('receiver-process.mjs', import.meta.url)), { execArgv: [] });
const port = await new Promise<number>((resolve) => receiver.once('message', (m: { port: number }) => resolve(m.port)));
const url = `http://127.0.0.1:${port}/hook`;

function nextMessage(type: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from the receiver in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      receiver.off('message', onMessage);
      resolve();
    };
    receiver.on('message', onMessage);
  });
}

async function run(database: Database, withHealth: boolean): Promise<number> {
  const db = database.db;
  const now = new Date();
  const [user] = await db.insert(users).values({ name: 'bench', email: `bench-${randomUUID()}@example.com`, createdAt: now }).returning();
  await db.insert(webhooks).values({ userId: user!.id, url, createdAt: now, updatedAt: now });
  await enqueuePings(db, [user!.id], url, N);
  const armed = nextMessage('armed', 5000);
  receiver.send({ type: 'expect', count: N });
  await armed;
  const arrived = nextMessage('reached', PHASE_LIMIT_MS);
  const logger = createLogger('warn');
  const health = endpointHealth({
    db,
    clock: systemClock,
    logger,
    disableAfterFailures: 20,
    disableAfterMs: 86_400_000,
    skipPending: async () => {},
  });
  const worker = createDeliveryWorker({
    database,
    clock: systemClock,
    logger,
    // One endpoint here: its cap is the whole concurrency, so the run measures the hook, not fairness.
    config: { ...BENCH_WORKER_CONFIG, concurrency: CONCURRENCY, endpointConcurrency: CONCURRENCY },
    resolveEndpoint: async () => ({ url, secret: SECRET, createdAt: new Date(0) }),
    onRecorded: withHealth ? health.recorded : undefined,
  });
  const started = performance.now();
  await worker.start();
  await arrived;
  // Sends are counted when they arrive; the run ends when every result (and hook) is written.
  await worker.stop();
  const seconds = (performance.now() - started) / 1000;
  const pending = await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'PENDING'));
  if (pending.length > 0) throw new Error(`${pending.length} deliveries still PENDING after the run`);
  await db.delete(webhookDeliveries);
  return N / seconds;
}

const source = await createTestDatabaseSource();
const database = await source.open();
try {
  const rates: Record<'without' | 'with', number[]> = { without: [], with: [] };
  for (let round = 0; round < ROUNDS; round++) {
    rates.without.push(await run(database, false));
    rates.with.push(await run(database, true));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`${N} deliveries × ${ROUNDS} rounds, concurrency ${CONCURRENCY}, ${database.kind}`);
  console.log(`without the health hook: ${rates.without.map((r) => r.toFixed(0)).join(', ')} /s`);
  console.log(`with the health hook:    ${rates.with.map((r) => r.toFixed(0)).join(', ')} /s`);
  console.log(`with / without (medians): ${(median(rates.with) / median(rates.without)).toFixed(2)}`);
} finally {
  await database.close();
  await source.destroy();
  receiver.send({ type: 'stop' });
}
