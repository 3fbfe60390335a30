import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { queryRows } from '../db/rows.js';
import { PENDING } from '../delivery/delivery-status.js';
import type { AttemptOutcome } from '../delivery/http-sender.js';

const ATTEMPT_BUCKETS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10_000];
// A scrape never costs a query: the queue depth is read at most this often, by whoever asks first.
export const QUEUE_DEPTH_TTL_MS = 5000;

/** This process's metrics: counters observed when things happen, one cached queue query. */
export interface Metrics {
  readonly registry: Registry;
  httpRequest(method: string, status: number): void;
  /** Called by the delivery worker as each attempt ends. */
  attemptFinished(outcome: AttemptOutcome): void;
  /** Lets the queue gauges read this database (the process that serves /metrics). */
  watchQueue(db: Db, clock: Clock): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'alertwire_http_requests_total',
    help: 'HTTP requests answered by this process.',
    labelNames: ['method', 'status'],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'alertwire_delivery_attempts_total',
    help: 'Delivery attempts made by this process, by result (DELIVERED or the failure kind).',
    labelNames: ['result'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'alertwire_delivery_attempt_duration_ms',
    help: 'Duration of delivery attempts made by this process.',
    buckets: ATTEMPT_BUCKETS_MS,
    registers: [registry],
  });
  let queue: (() => Promise<{ pending: number; due: number }>) | null = null;
  new Gauge({
    name: 'alertwire_delivery_queue_pending',
    help: `Pending deliveries in the shared queue (read at most every ${QUEUE_DEPTH_TTL_MS / 1000} s).`,
    registers: [registry],
    async collect() {
      if (queue) this.set((await queue()).pending);
    },
  });
  new Gauge({
    name: 'alertwire_delivery_queue_due',
    help: `Pending deliveries whose next attempt is due (read at most every ${QUEUE_DEPTH_TTL_MS / 1000} s).`,
    registers: [registry],
    async collect() {
      if (queue) this.set((await queue()).due);
    },
  });

  return {
    registry,
    httpRequest: (method, status) => requests.inc({ method, status: String(status) }),
    attemptFinished(outcome) {
      attempts.inc({ result: outcome.delivered ? 'DELIVERED' : (outcome.failureKind ?? 'UNKNOWN') });
      durations.observe(outcome.durationMs);
    },
    watchQueue(db, clock) {
      queue = cachedQueueDepth(db, clock);
    },
  };
}

function cachedQueueDepth(db: Db, clock: Clock): () => Promise<{ pending: number; due: number }> {
  let value = { pending: 0, due: 0 };
  let readAt = -Infinity;
  let reading: Promise<unknown> | null = null;
  return async () => {
    const now = clock.now().getTime();
    if (now - readAt >= QUEUE_DEPTH_TTL_MS && !reading) {
      readAt = now;
      reading = queryRows<{ pending: number; due: number }>(
        db,
        sql`select count(*)::int as pending, count(*) filter (where next_attempt_at <= ${clock.now().toISOString()}::timestamptz)::int as due
            from webhook_deliveries where status = ${PENDING} /* queueDepth */`,
      )
        .then(([row]) => (value = row ?? value))
        // An unreachable database leaves the last value in place; /ready reports the outage.
        .catch(() => {})
        .finally(() => (reading = null));
    }
    // Concurrent scrapes share one read; a scrape waits for it only while it is under way.
    if (reading) await reading;
    return value;
  };
}
