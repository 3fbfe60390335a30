// `npm run bench`: deliveries per second of the worker to a local receiver, against a raw
// undici.request POST loop at the same concurrency to the same receiver, in one run; then the
// worker with claim batches of 1 and 50. 127.0.0.1 only, bounded in count and time.
// BENCH_DELIVERIES (default 4000) and DELIVERY_CONCURRENCY (default 16) size it; DATABASE_URL
// runs it on a fresh Postgres database (dropped afterwards), else on PGlite in a temporary
// DATA_DIR, in a worker thread, as `npm start` runs it. Each phase also reports this process's CPU
// per delivery (steadier than rates on a shared machine). BENCH_CPU_PROFILE=file.cpuprofile
// profiles the batch-50 worker phase only (node:inspector), skips batch 1 and records nothing;
// sum it with bench/cpu-profile-summary.mjs.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { eq } from 'drizzle-orm';
import { systemClock } from '../src/clock.js';
import { createDb, type Database } from '../src/db/client.js';
import { users, webhookDeliveries } from '../src/db/tables.js';
import { createDeliveryWorker } from '../src/delivery/delivery-worker.js';
import { buildPingPayload } from '../src/delivery/payload-builder.js';
import { signatureHeaders } from '../src/delivery/signature.js';
import { createLogger } from '../src/logger.js';
import { PGLITE_TEMPLATE_DIR } from '../src/package-files.js';
import { createTestDatabaseSource, type TestDatabaseSource } from '../test/helpers/test-database.js';
import { cpuSeconds, postgresCpuSeconds, replaceSection } from './results-file.js';
import { BENCH_WORKER_CONFIG, enqueuePings } from './worker-setup.js';

const N = Number(process.env.BENCH_DELIVERIES ?? 4000);
const CONCURRENCY = Number(process.env.DELIVERY_CONCURRENCY ?? 16);
// Deliveries are spread over this many users (endpoints), so the per-endpoint cap (4) is not the limit.
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 16);
const PHASE_LIMIT_MS = 60_000;
const PROFILE_FILE = process.env.BENCH_CPU_PROFILE;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

type ReceiverMessage = { type: 'listening'; port: number } | { type: 'armed' } | { type: 'reached'; received: number };
const receiver = fork(fileURLToPath(new URL('receiver-process.mjs', import.meta.url)), { execArgv: [] });
const port = await new Promise<number>((resolve) =>
  receiver.once('message', (m: ReceiverMessage) => resolve(m.type === 'listening' ? m.port : 0)),
);
const url = `http://127.0.0.1:${port}/hook`;

const nextMessage = (type: ReceiverMessage['type'], timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from the receiver in ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: ReceiverMessage) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      receiver.off('message', onMessage);
      resolve();
    };
    receiver.on('message', onMessage);
  });

/** Arms the receiver for `count` requests; `arrived` resolves when all of them have come in. */
async function expectRequests(count: number): Promise<{ arrived: Promise<void> }> {
  const armed = nextMessage('armed', 5000);
  receiver.send({ type: 'expect', count });
  await armed;
  // Wrapped in an object: an async function returning a bare promise would wait for it.
  return { arrived: nextMessage('reached', PHASE_LIMIT_MS) };
}

async function rawLoop(): Promise<Phase> {
  const { arrived } = await expectRequests(N);
  const agent = new Agent({ connections: CONCURRENCY });
  const { body } = buildPingPayload(randomUUID(), new Date());
  let next = 0;
  const others = otherCpu();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const id = String(next++);
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          body,
          headers: { 'content-type': 'application/json', ...signatureHeaders(SECRET, id, new Date(), body) },
        });
        await res.body.dump();
      }
    }),
  );
  await arrived;
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = cpuMicros(cpu);
  const { receiverUs, postgresUs } = others.perDelivery();
  await agent.close();
  return { rate: N / seconds, cpuUs: cpuUs / N, receiverUs, postgresUs };
}

interface Phase {
  rate: number;
  /** CPU of this process (user + system) per delivery, µs. */
  cpuUs: number;
  /** The receiver process's CPU per delivery, µs. */
  receiverUs: number;
  /** PostgreSQL's CPU per delivery, µs (all its processes on this machine); null on PGlite (in cpuUs). */
  postgresUs: number | null;
}

// The two cores are shared by this process, the receiver and (on PostgreSQL) the database server:
// what each spends per delivery shows where a phase's rate is bounded.
const localPostgres = /@(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(process.env.DATABASE_URL ?? '');

function otherCpu() {
  const receiverAt = cpuSeconds(receiver.pid!);
  const postgresAt = localPostgres ? postgresCpuSeconds() : null;
  return {
    perDelivery() {
      const postgresNow = postgresAt === null ? null : postgresCpuSeconds();
      return {
        receiverUs: ((cpuSeconds(receiver.pid!) - receiverAt) * 1e6) / N,
        postgresUs: postgresAt === null || postgresNow === null ? null : ((postgresNow - postgresAt) * 1e6) / N,
      };
    },
  };
}

const cpuMicros = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

async function profiled<T>(run: () => Promise<T>): Promise<T> {
  if (!PROFILE_FILE) return run();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(PROFILE_FILE, JSON.stringify(profile));
    session.disconnect();
  }
}

async function workerRun(database: Database, batchSize: number): Promise<Phase> {
  const db = database.db;
  const endpoints = await db
    .insert(users)
    .values(
      Array.from({ length: ENDPOINTS }, () => ({
        name: 'bench',
        email: `bench-${randomUUID()}@example.com`,
        apiKeyHash: randomUUID(),
        createdAt: new Date(),
      })),
    )
    .returning();
  await enqueuePings(
    db,
    endpoints.map((e) => e.id),
    url,
    N,
  );
  const { arrived } = await expectRequests(N);
  const worker = createDeliveryWorker({
    database,
    clock: systemClock,
    logger: createLogger('warn'),
    config: { ...BENCH_WORKER_CONFIG, concurrency: CONCURRENCY, batchSize },
    resolveEndpoint: async () => ({ url, secret: SECRET, createdAt: new Date(0) }),
  });
  const others = otherCpu();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await profiled(async () => {
    await worker.start();
    await arrived;
  });
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = cpuMicros(cpu);
  const { receiverUs, postgresUs } = others.perDelivery();
  await worker.stop();
  const pending = await db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'PENDING'));
  if (pending.length > 0) throw new Error(`${pending.length} deliveries still PENDING after the run`);
  await db.delete(webhookDeliveries);
  return { rate: N / seconds, cpuUs: cpuUs / N, receiverUs, postgresUs };
}

// PGlite as `npm start` runs it: in a data folder, in a worker thread (src/db/pglite-thread.ts).
const pgliteDir = process.env.DATABASE_URL ? undefined : mkdtempSync(path.join(tmpdir(), 'alertwire-bench-'));
const source: TestDatabaseSource = pgliteDir
  ? {
      open: async () => {
        const database = await createDb({ dataDir: pgliteDir, templateDir: PGLITE_TEMPLATE_DIR, thread: true });
        await database.migrate();
        return database;
      },
      destroy: async () => rmSync(pgliteDir, { recursive: true, force: true }),
    }
  : await createTestDatabaseSource();
const database = await source.open();
const backend = database.kind === 'pglite' ? 'PGlite (DATA_DIR, worker thread)' : 'PostgreSQL';

/** Replaces this backend's section of RESULTS.md with this run's figures. */
function recordResults(raw: Phase, batch50: Phase, batch1: Phase, warm50: Phase, warmRaw: Phase): void {
  const row = (name: string, p: Phase) =>
    `| ${name} | ${p.rate.toFixed(0)} | ${(p.rate / raw.rate).toFixed(2)} | ${(p.rate / warmRaw.rate).toFixed(2)} | ${p.cpuUs.toFixed(0)} | ${p.receiverUs.toFixed(0)} |${p.postgresUs === null ? '' : ` ${p.postgresUs.toFixed(0)} |`}`;
  const postgres = raw.postgresUs !== null;
  replaceSection(
    backend,
    `## ${backend}

Recorded by \`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${N} deliveries,
concurrency ${CONCURRENCY}, Node ${process.version}. CPU per delivery (user + system, µs): the sending
process's (on PGlite with its database thread), the receiver's${postgres ? ", and PostgreSQL's (all its processes on this machine)" : ''}; they share 2 cores.
"vs raw loop" is against the raw loop run first, as the issue measured it; "vs warm raw loop"
against the same loop run again at the end, with undici and the JIT warmed up (the worker's
batch-50 phase also runs again, warm, before it).

| run | deliveries/s | vs raw loop | vs warm raw loop | sender CPU | receiver CPU |${postgres ? ' PostgreSQL CPU |' : ''}
|---|---:|---:|---:|---:|---:|${postgres ? '---:|' : ''}
${row(`raw \`undici.request\` POST loop, ${CONCURRENCY} in parallel`, raw)}
${row('worker, claim batch 50', batch50)}
${row('worker, claim batch 1', batch1)}
${row('worker, claim batch 50 again, warm', warm50)}
${row('raw loop again, warm (last)', warmRaw)}

Claim batch 50 vs 1: ${(batch50.rate / batch1.rate).toFixed(2)} ×.
`,
  );
}

try {
  console.log(`${N} deliveries, concurrency ${CONCURRENCY}, ${backend}, receiver ${url}`);
  const raw = await rawLoop();
  const line = (name: string, p: Phase) =>
    console.log(`${name.padEnd(27)}${p.rate.toFixed(0).padStart(5)} /s  (${(p.rate / raw.rate).toFixed(2)} × raw)  CPU each: ${p.cpuUs.toFixed(0)} µs, receiver ${p.receiverUs.toFixed(0)}${p.postgresUs === null ? '' : `, PostgreSQL ${p.postgresUs.toFixed(0)}`}`);
  line('raw undici.request loop:', raw);
  const batch50 = await workerRun(database, 50);
  line('worker, claim batch 50:', batch50);
  if (PROFILE_FILE) console.log(`profile of the batch-50 phase: ${PROFILE_FILE}`);
  else {
    const batch1 = await workerRun(database, 1);
    line('worker, claim batch 1:', batch1);
    console.log(`batch 50 / batch 1:        ${(batch50.rate / batch1.rate).toFixed(2)}`);
    const warm50 = await workerRun(database, 50);
    line('worker, batch 50 (warm):', warm50);
    const warmRaw = await rawLoop();
    line('raw loop again (warm):', warmRaw);
    console.log(`warm worker / warm raw:    ${(warm50.rate / warmRaw.rate).toFixed(2)}`);
    recordResults(raw, batch50, batch1, warm50, warmRaw);
  }
} finally {
  await database.close();
  await source.destroy();
  receiver.send({ type: 'stop' });
}
