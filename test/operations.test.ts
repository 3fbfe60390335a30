import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeliveries } from '../src/db/tables.js';
import { QUEUE_DEPTH_TTL_MS } from '../src/metrics/metrics.js';
import { startMetricsServer } from '../src/metrics/metrics-server.js';
import { movableClock } from './helpers/clock.js';
import { freePort } from './helpers/ports.js';
import { createReceiver, eventually } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { createTestDatabaseSource } from './helpers/test-database.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const get = (path: string) => t.app.fetch(`http://127.0.0.1${path}`);
const metricsText = async (app: TestApp) => (await app.app.fetch('http://127.0.0.1/metrics')).text();

describe('operations endpoints', () => {
  it('GET /health answers 200 while the process is alive', async () => {
    expect((await get('/health')).status).toBe(200);
  });

  it('GET /ready answers 200 when the database is reachable and migrated', async () => {
    const res = await get('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

});

describe('GET /metrics', () => {
  const pendingRow = (userId: string) => ({
    userId,
    event: 'webhook.ping',
    status: 'PENDING',
    url: 'https://example.com/',
    body: '{}',
    payloadSummary: 'ping',
    maxAttempts: 3,
    nextAttemptAt: new Date(Date.now() - 1000),
    createdAt: new Date(),
  });

  it('reports requests, attempt durations observed by the worker, and the queue depth', async () => {
    const clock = movableClock();
    const m = await createTestApp({ clock });
    const receiver = await createReceiver();
    try {
      const { apiKey } = await m.register();
      await m.gql(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, {
        apiKey,
        variables: { input: { url: receiver.url } },
      });
      await m.startWorker();
      await m.gql(`mutation { sendTestWebhook { __typename } }`, { apiKey });
      await receiver.waitFor(1);
      await eventually(async () => expect(await metricsText(m)).toContain('alertwire_delivery_attempts_total{result="DELIVERED"} 1'));
      await m.database.db.insert(webhookDeliveries).values(pendingRow((await m.register()).userId));
      const text = await metricsText(m);
      expect(text).toContain('alertwire_http_requests_total{method="POST",status="200"}');
      expect(text).toContain('alertwire_delivery_attempt_duration_ms_count 1');
      expect(text).toMatch(/alertwire_delivery_attempt_duration_ms_bucket\{le="\+Inf"\} 1/);
      expect(text).toMatch(/alertwire_delivery_queue_pending \d+/);
    } finally {
      await m.close();
      await receiver.close();
    }
  });

  it('reads the queue depth at most once per few seconds, however often it is scraped', async () => {
    const clock = movableClock();
    const m = await createTestApp({ clock });
    try {
      const { userId } = await m.register();
      expect(await metricsText(m)).toContain('alertwire_delivery_queue_pending 0');
      await m.database.db.insert(webhookDeliveries).values(pendingRow(userId));
      const scrapes = await Promise.all(Array.from({ length: 20 }, () => metricsText(m)));
      for (const text of scrapes) expect(text).toContain('alertwire_delivery_queue_pending 0');
      clock.advance(QUEUE_DEPTH_TTL_MS);
      expect(await metricsText(m)).toContain('alertwire_delivery_queue_pending 1');
      expect(await metricsText(m)).toContain('alertwire_delivery_queue_due 1');
    } finally {
      await m.close();
    }
  });

  it('needs the bearer token when METRICS_TOKEN is set', async () => {
    const token = 'metrics-token-0123456789';
    const m = await createTestApp({ env: { METRICS_TOKEN: token } });
    try {
      expect((await m.app.fetch('http://127.0.0.1/metrics')).status).toBe(401);
      expect((await m.app.fetch('http://127.0.0.1/metrics', { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
      const ok = await m.app.fetch('http://127.0.0.1/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('alertwire_http_requests_total');
    } finally {
      await m.close();
    }
  });

  it('is served only on its own port when METRICS_PORT is set', async () => {
    const port = await freePort();
    const m = await createTestApp({ env: { METRICS_PORT: String(port) } });
    const server = await startMetricsServer(m.metrics, { port, host: '127.0.0.1' });
    try {
      expect((await m.app.fetch('http://127.0.0.1/metrics')).status).toBe(404);
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('alertwire_delivery_queue_pending');
    } finally {
      server.close();
      await m.close();
    }
  });
});

describe('readiness of an outdated database', () => {
  it('GET /ready answers 503 while the newest migration is not applied', async () => {
    const other = await createTestApp();
    try {
      await other.database.db.execute(
        sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`,
      );
      const res = await other.app.fetch('http://127.0.0.1/ready');
      expect(res.status).toBe(503);
    } finally {
      await other.close();
    }
  });
});

describe('readiness without a database', () => {
  it('GET /ready answers 503 once the database is gone', async () => {
    const source = await createTestDatabaseSource();
    const other = await createTestApp({ source });
    await other.database.close();
    try {
      const res = await other.app.fetch('http://127.0.0.1/ready');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable' });
    } finally {
      await other.app.dispose();
      await source.destroy();
    }
  });
});
