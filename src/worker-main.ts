// `npm run worker`: the delivery worker and the alert evaluator, to scale them apart from the API.
import { createEvaluator, createWorker } from './app.js';
import { describeDatabase, loadConfigOrExit, openRuntime } from './bootstrap.js';
import { systemClock } from './clock.js';
import { createMetrics } from './metrics/metrics.js';
import { startMetricsServer } from './metrics/metrics-server.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { logger, database, secretBox } = await openRuntime(config);
  if (database.kind === 'pglite') {
    logger.warn('the embedded database belongs to one process: do not run this next to `npm start` on the same DATA_DIR; set DATABASE_URL to scale out');
  }
  const metrics = createMetrics();
  metrics.watchQueue(database.db, systemClock);
  // The worker's attempt metrics live in this process: METRICS_PORT serves them.
  const metricsServer = config.METRICS_PORT
    ? await startMetricsServer(metrics, { port: config.METRICS_PORT, host: config.HOST, token: config.METRICS_TOKEN })
    : null;
  const worker = createWorker({ database, config, clock: systemClock, logger, secretBox, metrics });
  await worker.start();
  const evaluator = createEvaluator({ database, config, clock: systemClock, logger, secretBox });
  await evaluator.start();
  logger.info('Alertwire delivery worker is running', {
    database: describeDatabase(database, config),
    webhookPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS ? 'allowed' : 'blocked',
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    metricsServer?.close();
    await evaluator.stop();
    await worker.stop();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Alertwire worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
