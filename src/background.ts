// What runs beside the API: the delivery worker and the alert evaluator. Apart from app.ts, so
// that `npm start` loads them (and undici, the sender's HTTP client) after /ready answers.
import type { AppDeps } from './app.js';
import { createDeliveryEventHub } from './delivery/delivery-events.js';
import { createDeliveryWorker, type DeliveryWorker } from './delivery/delivery-worker.js';
import type { LookupFn } from './delivery/http-sender.js';
import { createAlertEvaluator, type AlertEvaluator } from './modules/alerts/alert-evaluator.js';
import { alertsRepository } from './modules/alerts/alerts.repository.js';
import { deliveriesService } from './modules/deliveries/deliveries.service.js';
import { createQuotePollerFromConfig } from './modules/quotes/quotes.service.js';
import { endpointHealth } from './modules/webhooks/endpoint-health.js';
import { webhookEndpoints } from './modules/webhooks/webhook-endpoint.js';

/** The delivery worker; what it needs from the modules (the endpoint, its health) is passed in. */
export function createWorker(
  deps: AppDeps,
  options: { workerId?: string; lookup?: LookupFn } = {},
): DeliveryWorker {
  const { config, database, clock, logger } = deps;
  const deliveries = deliveriesService({ db: database.db, clock, logger, config, events: createDeliveryEventHub(database, logger) });
  const health = endpointHealth({
    db: database.db,
    clock,
    logger,
    disableAfterFailures: config.WEBHOOK_DISABLE_AFTER_FAILURES,
    disableAfterMs: config.WEBHOOK_DISABLE_AFTER,
    skipPending: deliveries.skipPending,
  });
  return createDeliveryWorker({
    database,
    clock,
    logger,
    ...options,
    observeAttempt: deps.metrics ? (outcome) => deps.metrics!.attemptFinished(outcome) : undefined,
    config: {
      concurrency: config.DELIVERY_CONCURRENCY,
      endpointConcurrency: config.DELIVERY_ENDPOINT_CONCURRENCY,
      endpointBreakerFailures: config.DELIVERY_ENDPOINT_BREAKER_FAILURES,
      endpointBreakerCooldownMs: config.DELIVERY_ENDPOINT_BREAKER_COOLDOWN_MS,
      batchSize: config.DELIVERY_BATCH_SIZE,
      leaseMs: config.DELIVERY_LEASE_MS,
      retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
      retryAfterMaxMs: config.WEBHOOK_RETRY_AFTER_MAX_MS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    },
    resolveEndpoint: webhookEndpoints({ db: database.db, clock, secretBox: deps.secretBox, logger }),
    onRecorded: health.recorded,
  });
}

/**
 * Evaluates alerts whenever a price change commits, and with QUOTES_URL polls the watched
 * tickers into the quotes tables; runs in `npm start` and in `npm run worker`.
 */
export function createEvaluator(deps: AppDeps): AlertEvaluator {
  const { database, clock, logger, config } = deps;
  // Only enqueueMany is used, which publishes through NOTIFY: the hub is never listened on here.
  const deliveries = deliveriesService({ db: database.db, clock, logger, config, events: createDeliveryEventHub(database, logger) });
  const evaluator = createAlertEvaluator({ database, clock, logger, enqueueMany: (tx, items) => deliveries.enqueueMany(tx, items) });
  const watchedTickers = () => alertsRepository(database.db).watchedTickers();
  const poller = createQuotePollerFromConfig({ db: database.db, config, clock, logger, watchedTickers });
  if (!poller) return evaluator;
  return {
    ...evaluator,
    async start() {
      await evaluator.start();
      poller.start();
    },
    async stop() {
      await poller.stop();
      await evaluator.stop();
    },
  };
}
