// `npx tsx bench/fairness.bench.ts`: a healthy tenant's delivery latency while two tenants'
// receivers never answer. Phases, in one run: the healthy tenant alone (baseline); all three
// with the worker's defaults (per-endpoint cap 4, breaker 3 timeouts → 30 s cooldown) for
// BENCH_FAIRNESS_SECONDS (default 180); then the same load with the cap and breaker out of the
// way (cap = all 16 slots), as the worker was before. Hanging tenants enqueue 5/s each, the
// healthy one 2/s. DATABASE_URL runs it on a fresh Postgres database, else in-memory PGlite.
// 127.0.0.1 only; every phase bounded in time.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../src/clock.js';
import { createDb, type Database } from '../src/db/client.js';
import { eq } from 'drizzle-orm';
import { users, webhookDeliveries } from '../src/db/tables.js';
import { enqueueDelivery } from '../src/delivery/delivery-queue.js';
import { FAILED, PENDING } from '../src/delivery/delivery-status.js';
import { createDeliveryWorker, type DeliveryWorkerConfig } from '../src/delivery/delivery-worker.js';
import { buildPingPayload } from '../src/delivery/payload-builder.js';
import { createLogger } from '../src/logger.js';
import { createTestDatabaseSource } from '../test/helpers/test-database.js';
import { BENCH_WORKER_CONFIG } from './worker-setup.js';

const LOADED_SECONDS = Number(process.env.BENCH_FAIRNESS_SECONDS ?? 180);
const BASELINE_SECONDS = 30;
const UNFAIR_SECONDS = 60;


async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` };
}

// By id: a delivery may arrive before its enqueue call has returned to the loop below.
const sentAt = new Map<string, number>();
const arrivedAt = new Map<string, number>();
const healthy = await listen((req, res) => {
  const id = String(req.headers['x-webhook-delivery']);
  req.resume().on('end', () => {
    if (!arrivedAt.has(id)) arrivedAt.set(id, Date.now());
    res.end('ok');
  });
});
const latenciesOf = (ids: string[]) => ids.filter((id) => arrivedAt.has(id)).map((id) => arrivedAt.get(id)! - sentAt.get(id)!);
const held = new Set<import('node:http').ServerResponse>();
const hanging = [await listen((_req, res) => void held.add(res)), await listen((_req, res) => void held.add(res))];

const source = process.env.DATABASE_URL
  ? await createTestDatabaseSource()
  : {
      async open() {
        const fresh = await createDb({});
        await fresh.migrate();
        return fresh;
      },
      destroy: async () => {},
    };
const database: Database = await source.open();
const db = database.db;

async function tenant(url: string) {
  const [user] = await db
    .insert(users)
    .values({ name: 'bench', email: `fair-${randomUUID()}@example.com`, apiKeyHash: randomUUID(), createdAt: new Date() })
    .returning();
  return { id: user!.id, url };
}

async function enqueue(t: { id: string; url: string }): Promise<string> {
  const payload = buildPingPayload(t.id, new Date());
  const row = await db.transaction((tx) =>
    enqueueDelivery(tx, { userId: t.id, url: t.url, ...payload, maxAttempts: 3, now: new Date(), maxDeliveries: 1000 }),
  );
  return row.id;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function phase(label: string, seconds: number, config: DeliveryWorkerConfig, withHanging: boolean) {
  const ok = await tenant(healthy.url);
  const stuck = withHanging ? await Promise.all(hanging.map((h) => tenant(h.url))) : [];
  const urls = new Map([ok, ...stuck].map((t) => [t.id, t.url]));
  const ids: string[] = [];
  const worker = createDeliveryWorker({
    database,
    clock: systemClock,
    logger: createLogger('error'),
    config,
    resolveEndpoint: async (userId) => (urls.has(userId) ? { url: urls.get(userId)!, secret: null, createdAt: new Date(0) } : null),
  });
  await worker.start();
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  for (let tick = 0; Date.now() < end; tick++) {
    for (const t of stuck) await enqueue(t);
    if (tick % 5 === 0 || tick % 5 === 2) {
      // Latency counts from just before the enqueue: what a client calling the API waits for.
      const started = Date.now();
      const id = await enqueue(ok);
      sentAt.set(id, started);
      ids.push(id);
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Deliveries enqueued in the last seconds may still arrive; wait a bounded moment for them.
  for (let waited = 0; latenciesOf(ids).length < sent && waited < 15_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  await worker.stop();
  for (const res of held) res.destroy();
  held.clear();
  // The next phase starts from an empty queue.
  await db.update(webhookDeliveries).set({ status: FAILED, nextAttemptAt: null }).where(eq(webhookDeliveries.status, PENDING));
  const sorted = latenciesOf(ids).sort((a, b) => a - b);
  const row = { label, seconds, sent, delivered: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
  console.log(JSON.stringify(row));
  return row;
}

try {
  const backend = database.kind === 'pglite' ? 'PGlite (in memory)' : 'PostgreSQL';
  console.log(`fairness bench on ${backend}`);
  const rows = [
    await phase('healthy tenant alone', BASELINE_SECONDS, BENCH_WORKER_CONFIG, false),
    await phase('2 hanging + 1 healthy, defaults (cap 4, breaker)', LOADED_SECONDS, BENCH_WORKER_CONFIG, true),
    await phase('2 hanging + 1 healthy, no cap, no breaker (as before)', UNFAIR_SECONDS, { ...BENCH_WORKER_CONFIG, endpointConcurrency: 16, endpointBreakerFailures: 1000 }, true),
  ];
  console.log('| phase | s | healthy sent | delivered | p50 ms | p99 ms | max ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.label} | ${r.seconds} | ${r.sent} | ${r.delivered} | ${r.p50} | ${r.p99} | ${r.max} |`);
} finally {
  for (const res of held) res.destroy();
  await database.close();
  await source.destroy();
  for (const s of [healthy, ...hanging]) {
    s.server.closeAllConnections();
    s.server.close();
  }
}
