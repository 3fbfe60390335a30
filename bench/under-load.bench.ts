// Reported, no goal yet (issue 9): p99 of `triggeredAlerts` while 1,000 deliveries are in flight,
// and the server's RSS after 60 s of API load. Alertwire runs `dist/src/main.js` (API + delivery
// worker) on PostgreSQL; the receiver answers each delivery after 100 ms.
// `DATABASE_URL=postgres://… npm run bench:load`; results → RESULTS.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { and, eq } from 'drizzle-orm';
import { webhookDeliveries } from '../src/db/tables.js';
import { enqueuePings } from './worker-setup.js';
import { recordedOn, replaceSection } from './results-file.js';
import { createTestDatabaseSource } from '../test/helpers/test-database.js';

if (!process.env.DATABASE_URL) throw new Error('set DATABASE_URL');
const root = fileURLToPath(new URL('..', import.meta.url));
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
const USERS = 10; // register allows 10 per hour per address
const IN_FLIGHT = 1000;

const receiver = createHttpServer((req, res) => {
  req.resume();
  setTimeout(() => res.writeHead(200).end(), 100);
}).listen(0, '127.0.0.1');
await new Promise((r) => receiver.once('listening', r));
const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

const source = await createTestDatabaseSource();
const database = await source.open();
const port = 20_000 + Math.floor(Math.random() * 20_000);
const server = spawn(process.execPath, ['dist/src/main.js'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    NODE_ENV: 'production',
    DATABASE_URL: source.url,
    SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ADMIN_API_KEY: ADMIN,
    PORT: String(port),
    HOST: '127.0.0.1',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    RATE_LIMIT_MAX: '1000000',
    LOG_LEVEL: 'error',
  },
});
const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) / 1024;

async function gql(query: string, apiKey?: string, variables?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function triggeredAlertsLatencies(keys: string[], perUser: number): Promise<number[]> {
  const latencies: number[] = [];
  await Promise.all(
    keys.map(async (key) => {
      for (let i = 0; i < perUser; i++) {
        const started = performance.now();
        const answer = await gql('{ triggeredAlerts { summary { triggeredCount } delivery { id } } }', key);
        latencies.push(performance.now() - started);
        if (answer.data?.triggeredAlerts?.summary?.triggeredCount !== 1) throw new Error(JSON.stringify(answer));
      }
    }),
  );
  return latencies;
}

try {
  for (let i = 0; i < 600 && !(await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await gql('mutation($q: [QuoteInput!]!) { upsertQuotes(input: $q) { __typename } }', ADMIN, { q: [{ ticker: 'AAPL', price: 250 }] });
  const keys: string[] = [];
  const userIds: string[] = [];
  for (let i = 0; i < USERS; i++) {
    const r = await gql(`mutation { register(input: { name: "L", email: "load-${i}@example.com" }) { apiKey user { id } } }`);
    keys.push(r.data.register.apiKey);
    userIds.push(r.data.register.user.id);
    await gql(`mutation { setWebhook(input: { url: "${hook}" }) { __typename } }`, keys[i]);
    await gql('mutation { createAlert(input: { alertType: PRICE_THRESHOLD, ticker: "AAPL", direction: ABOVE, targetPrice: 100 }) { __typename } }', keys[i]);
  }
  const idle = await triggeredAlertsLatencies(keys, 10);

  // Through the queue's own enqueue (one transaction, with its NOTIFY), spread over every user's
  // endpoint: the worker starts sending at once and is busy for the whole measurement (16 slots,
  // 100 ms per answer: ~6 s for 1000), instead of finding rows inserted behind its back only at
  // its next poll, after the calls have ended.
  await enqueuePings(database.db, userIds, hook, IN_FLIGHT);
  const busy = await triggeredAlertsLatencies(keys, 15);
  const stillPending = (await database.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(and(eq(webhookDeliveries.status, 'PENDING'), eq(webhookDeliveries.event, 'webhook.ping')))).length;

  const rssBefore = rssMb();
  const read = await autocannon({
    url: `http://127.0.0.1:${port}/graphql`,
    method: 'POST',
    connections: 32,
    duration: 60,
    headers: { 'content-type': 'application/json', 'x-api-key': keys[1]! },
    body: JSON.stringify({ query: '{ webhook { url hasSecret isActive createdAt updatedAt } }' }),
  });
  const rssAfter = rssMb();
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const table = `| measure | value |
|---|---:|
| \`triggeredAlerts\` p50 / p99, idle (${idle.length} calls, ${USERS} users) | ${ms(percentile(idle, 50))} / ${ms(percentile(idle, 99))} |
| \`triggeredAlerts\` p50 / p99, ${IN_FLIGHT} deliveries queued (${busy.length} calls) | ${ms(percentile(busy, 50))} / ${ms(percentile(busy, 99))} |
| deliveries still pending when those calls ended | ${stillPending} of ${IN_FLIGHT} |
| RSS before / after 60 s of \`{ webhook }\` reads (32 connections, ${read.requests.average.toFixed(0)} req/s) | ${rssBefore.toFixed(0)} MB / ${rssAfter.toFixed(0)} MB |`;
  console.log(table);
  replaceSection(
    'Under load',
    `## Under load (PostgreSQL; reported, no goal)

Recorded by \`npm run bench:load\` on ${recordedOn()}:
\`dist/src/main.js\` (API and delivery worker) on PostgreSQL, a receiver answering each delivery
after 100 ms. \`triggeredAlerts\` latency measured by ${USERS} users in parallel (each call evaluates one
triggered alert and enqueues a delivery), first idle, then right after ${IN_FLIGHT} deliveries were queued.

${table}
`,
  );
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  receiver.close();
  await database.close();
  await source.destroy();
}
