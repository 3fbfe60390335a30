import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryAttempts, webhookDeliveries } from '../src/db/tables.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { createTestDatabaseSource } from './helpers/test-database.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const get = (path: string) => t.app.fetch(`http://127.0.0.1${path}`);

describe('operations endpoints', () => {
  it('GET /health answers 200 while the process is alive', async () => {
    expect((await get('/health')).status).toBe(200);
  });

  it('GET /ready answers 200 when the database is reachable and migrated', async () => {
    const res = await get('/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });

  it('GET /metrics reports requests, deliveries by status, queue depth and attempt latency', async () => {
    const { userId } = await t.register();
    const now = new Date();
    const [delivery] = await t.database.db
      .insert(webhookDeliveries)
      .values({
        userId,
        event: 'webhook.ping',
        status: 'PENDING',
        url: 'https://example.com/',
        body: '{}',
        payloadSummary: 'ping',
        maxAttempts: 3,
        attempts: 1,
        nextAttemptAt: new Date(now.getTime() - 1000),
        createdAt: now,
      })
      .returning();
    await t.database.db
      .insert(deliveryAttempts)
      .values({ deliveryId: delivery!.id, number: 1, startedAt: now, durationMs: 120, httpStatus: 503 });

    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('alertwire_http_requests_total{method="POST",status="200"} 1');
    expect(text).toContain('alertwire_deliveries{status="PENDING"} 1');
    expect(text).toContain('alertwire_deliveries{status="DELIVERED"} 0');
    expect(text).toContain('alertwire_delivery_queue_due 1');
    expect(text).toContain('alertwire_delivery_attempt_duration_ms_bucket{le="100"} 0');
    expect(text).toContain('alertwire_delivery_attempt_duration_ms_bucket{le="250"} 1');
    expect(text).toContain('alertwire_delivery_attempt_duration_ms_sum 120');
    expect(text).toContain('alertwire_delivery_attempt_duration_ms_count 1');
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
