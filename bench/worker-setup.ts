import type { Db } from '../src/db/client.js';
import { enqueueDeliveries } from '../src/delivery/delivery-queue.js';
import type { DeliveryWorkerConfig } from '../src/delivery/delivery-worker.js';
import { buildPingPayload } from '../src/delivery/payload-builder.js';

/** The worker as `npm start` configures it by default (src/env.ts); a bench overrides what it varies. */
export const BENCH_WORKER_CONFIG: DeliveryWorkerConfig = {
  concurrency: 16,
  endpointConcurrency: 4,
  endpointBreakerFailures: 3,
  endpointBreakerCooldownMs: 30_000,
  batchSize: 50,
  leaseMs: 60_000,
  retryBaseMs: 1000,
  retryAfterMaxMs: 3_600_000,
  timeoutMs: 10_000,
  allowPrivateNetworks: true,
};

/** `count` test pings to `url`, due now, spread over the users in turn: enqueued as the app does. */
export async function enqueuePings(db: Db, userIds: string[], url: string, count: number): Promise<void> {
  const now = new Date();
  const inputs = Array.from({ length: count }, (_, i) => {
    const userId = userIds[i % userIds.length]!;
    return { userId, url, ...buildPingPayload(userId, now), maxAttempts: 3, now, maxDeliveries: count };
  });
  await db.transaction((tx) => enqueueDeliveries(tx, inputs));
}
