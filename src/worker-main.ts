// `npm run worker`: the delivery worker and the alert evaluator, to scale them apart from the API.
import type { Server } from 'node:http';
import { createEvaluator, createWorker } from './background.js';
import { describeDatabase, openRuntime, startUntilSignal } from './bootstrap.js';
import { loadConfigOrExit } from './env.js';
import { systemClock } from './clock.js';
import type { DeliveryWorker } from './delivery/delivery-worker.js';
import type { AlertEvaluator } from './modules/alerts/alert-evaluator.js';
import { createMetrics } from './metrics/metrics.js';
import { startMetricsServer } from './metrics/metrics-server.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { logger, database, secretBox } = await openRuntime(config);
  const metrics = createMetrics();
  metrics.watchQueue(database.withDeadline(config.DATABASE_REQUEST_TIMEOUT_MS), systemClock);
  // A signal can arrive while the worker and the evaluator start: the handlers are installed
  // before anything is said or started, and a shutdown waits for the start to finish first.
  let metricsServer: Server | null = null;
  let worker: DeliveryWorker | null = null;
  let evaluator: AlertEvaluator | null = null;
  const started = await startUntilSignal(
    logger,
    async () => {
      if (database.kind === 'pglite') {
        logger.warn('the embedded database belongs to one process: do not run this next to `npm start` on the same DATA_DIR; set DATABASE_URL to scale out');
      }
      // The worker's attempt metrics live in this process: METRICS_PORT serves them.
      metricsServer = config.METRICS_PORT
        ? await startMetricsServer(metrics, { port: config.METRICS_PORT, host: config.HOST, token: config.METRICS_TOKEN })
        : null;
      worker = createWorker({ database, config, clock: systemClock, logger, secretBox, metrics });
      await worker.start();
      evaluator = createEvaluator({ database, config, clock: systemClock, logger, secretBox });
      await evaluator.start();
    },
    async () => {
      metricsServer?.close();
      await evaluator?.stop();
      await worker?.stop();
      await database.close();
    },
  );
  if (!started) return;
  logger.info('Alertwire delivery worker is running', {
    database: describeDatabase(database, config),
    webhookPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS ? 'allowed' : 'blocked',
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`Alertwire worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
