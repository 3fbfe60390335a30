// `npm run bench:alerts` (PostgreSQL only: DATABASE_URL, a fresh database dropped afterwards).
// 1. Throughput: 100,000 alerts over 1,000 tickers; one upsertQuotes of 1,000 quotes makes 10 %
//    of them cross. Time from the mutation's answer until every crossing delivery is enqueued,
//    as alert evaluations per second, against the raw SQL time of the same evaluation (one
//    UPDATE … FROM quotes deciding and writing the crossings, rolled back) measured in this run.
// 2. Latency: price change → webhook received, p50/p99 over 200 single-ticker crossings, with
//    the evaluator and the delivery worker in this process, as in `npm start`.
// 127.0.0.1 only; every wait is bounded.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createApp } from '../src/app.js';
import { createEvaluator, createWorker } from '../src/background.js';
import { systemClock } from '../src/clock.js';
import { queryRows } from '../src/db/rows.js';
import { parseEnv } from '../src/env.js';
import { createLogger } from '../src/logger.js';
import { createSecretBox } from '../src/modules/webhooks/secret-box.js';
import { createTestDatabaseSource } from '../test/helpers/test-database.js';

if (!process.env.DATABASE_URL) {
  console.error('bench:alerts needs DATABASE_URL (PostgreSQL), e.g. postgres://postgres@127.0.0.1:5432/test');
  process.exit(2);
}
const ALERTS = 100_000;
const TICKERS = 1_000;
const USERS = 10_000; // 10 alerts each, the per-user maximum
const LATENCY_RUNS = Number(process.env.LATENCY_RUNS ?? 200);
const WAIT_LIMIT_MS = 60_000;
const ADMIN_KEY = 'bench-admin-key-0123456789';

const config = parseEnv({ NODE_ENV: 'test', LOG_LEVEL: 'error', ADMIN_API_KEY: ADMIN_KEY, RATE_LIMIT_MAX: '1000000', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_MAX_DELIVERIES: '10000' });
const source = await createTestDatabaseSource();
const database = await source.open();
const db = database.db;
const raw = postgres(source.url!, { max: 1, onnotice: () => {} });
const deps = { database, config, clock: systemClock, logger: createLogger('error'), secretBox: createSecretBox(randomBytes(32)) };
const app = createApp(deps);
const evaluator = createEvaluator(deps);

const received = new Map<string, number>();
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { triggered_alerts?: { current_value: string }[] };
    for (const entry of body.triggered_alerts ?? []) received.set(entry.current_value, performance.now());
    res.writeHead(200).end('ok');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

async function gql(query: string, apiKey = ADMIN_KEY, variables?: Record<string, unknown>): Promise<Record<string, any>> {
  const response = await app.fetch('http://127.0.0.1/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, any> };
  if (!body.data) throw new Error(JSON.stringify(body));
  return body.data;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + WAIT_LIMIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
const noPendingChanges = async () => (await queryRows<{ n: number }>(db, sql`select count(*)::int as n from quote_changes`))[0]!.n === 0;

console.log(`setting up ${USERS} users, ${ALERTS} alerts over ${TICKERS} tickers …`);
await raw.unsafe(`
  insert into users (name, email, api_key_hash, created_at)
    select 'Bench ' || i, 'bench-' || i || '@example.com', 'hash-' || i, now() from generate_series(0, ${USERS - 1}) i;
  insert into webhooks (user_id, url, is_active, created_at, updated_at)
    select id, 'http://127.0.0.1:9/unused', true, now(), now() from users;
  insert into quotes (ticker, price, as_of)
    select 'T' || t, 100, now() - interval '1 minute' from generate_series(0, ${TICKERS - 1}) t;
  insert into alerts (user_id, alert_type, ticker, target_price, direction, created_at)
    select u.id, 'PRICE_THRESHOLD', 'T' || (n / 100), 100.5 + (n % 100), 'ABOVE', now()
    from generate_series(0, ${ALERTS - 1}) n join users u on u.email = 'bench-' || (n % ${USERS}) || '@example.com';
  analyze;`);
await evaluator.start();

// 1. Throughput. 110.25 is above the targets 100.5 … 109.5 of each ticker: 10 of its 100 alerts.
const input = Array.from({ length: TICKERS }, (_, t) => ({ ticker: `T${t}`, price: 110.25 }));
const sent = performance.now();
await gql(`mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`, ADMIN_KEY, { input });
const answered = performance.now();
await until(noPendingChanges, 'the evaluation of 1,000 changes');
const enqueued = performance.now();
const [counts] = await raw`select (select count(*)::int from alerts where state = 'TRIGGERED') as crossed,
  (select count(*)::int from webhook_deliveries) as deliveries`;
const evaluationMs = enqueued - answered;

// Baseline: the same decision and state write in one SQL statement, no payloads or deliveries.
await raw`update alerts set state = 'ARMED', trigger_count = 0, last_triggered_at = null, state_changed_at = null`;
const baselineRuns: number[] = [];
for (let i = 0; i < 3; i++) {
  await raw
    .begin(async (tx) => {
      const started = performance.now();
      await tx`update alerts a set state = 'TRIGGERED', trigger_count = a.trigger_count + 1, last_triggered_at = now(), state_changed_at = now()
        from quotes q where q.ticker = a.ticker and a.state = 'ARMED'
          and ((a.direction = 'ABOVE' and q.price > a.target_price) or (a.direction = 'BELOW' and q.price < a.target_price))`;
      baselineRuns.push(performance.now() - started);
      throw new Error('rollback');
    })
    .catch(() => {});
}
const baselineMs = baselineRuns.sort((a, b) => a - b)[1]!;

// 2. Latency, with a worker sending; the throughput phase's deliveries go first.
await raw`delete from webhook_deliveries`;
const worker = createWorker(deps);
await worker.start();
const user = (await gql(`mutation { register(input: { name: "Latency", email: "latency@example.com" }) { apiKey } }`, '')).register.apiKey;
await gql(`mutation { setWebhook(input: { url: "${hookUrl}" }) { __typename } }`, user);
await gql(`mutation { upsertQuotes(input: [{ ticker: "LAT", price: 100 }]) { count } }`);
await gql(`mutation { createAlert(input: { alertType: PRICE_THRESHOLD, ticker: "LAT", targetPrice: 150, direction: ABOVE }) { __typename } }`, user);
const latencies: number[] = [];
for (let i = 0; i < LATENCY_RUNS; i++) {
  await gql(`mutation { upsertQuotes(input: [{ ticker: "LAT", price: 100 }]) { count } }`); // re-arms
  await until(noPendingChanges, 're-arming');
  const price = (200 + i / 100).toFixed(2);
  const started = performance.now();
  await gql(`mutation { upsertQuotes(input: [{ ticker: "LAT", price: ${price} }]) { count } }`);
  await until(async () => received.has(price), `the webhook for ${price}`);
  latencies.push(received.get(price)! - started);
}
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;

const rate = ALERTS / (evaluationMs / 1000);
console.log(JSON.stringify({
  throughput: {
    alerts: ALERTS,
    tickers: TICKERS,
    crossed: counts!.crossed,
    deliveriesEnqueued: counts!.deliveries,
    mutationAnswerMs: Math.round(answered - sent),
    answerToEnqueuedMs: Math.round(evaluationMs),
    evaluationsPerSecond: Math.round(rate),
    rawSqlEvaluationMs: Math.round(baselineMs),
    rawSqlEvaluationsPerSecond: Math.round(ALERTS / (baselineMs / 1000)),
    ratioToRawSql: Number((baselineMs / evaluationMs).toFixed(2)),
  },
  latency: { runs: LATENCY_RUNS, p50Ms: Number(pct(50).toFixed(1)), p99Ms: Number(pct(99).toFixed(1)), maxMs: Number(latencies.at(-1)!.toFixed(1)) },
}, null, 2));

await worker.stop();
await evaluator.stop();
await app.dispose();
receiver.close();
await raw.end();
await database.close();
await source.destroy();
process.exit(0);
