import { createServer } from 'node:http';
import { createApp, createWorker } from './app.js';
import { describeDatabase, loadConfigOrExit, openRuntime } from './bootstrap.js';
import { systemClock } from './clock.js';
import { createMetrics } from './metrics/metrics.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { seedDemoQuotes } from './modules/quotes/demo-quotes.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const { logger, database, secretBox } = await openRuntime(config);
  // Demo quotes only for the embedded database: a real DATABASE_URL never gets made-up prices.
  if (database.kind === 'pglite' && (await seedDemoQuotes(database.db, systemClock))) {
    logger.info('loaded DEMO quotes (made-up prices, not market data) into the fresh embedded database');
  }
  const metrics = createMetrics();
  const app = createApp({ database, config, clock: systemClock, logger, secretBox, metrics });
  const server = createServer(app);
  try {
    // Listen before the worker starts: a taken port must not leave a worker sending.
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.PORT, config.HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await app.dispose();
    await database.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'EADDRINUSE' ? `port ${config.PORT} on ${config.HOST} is already in use (set PORT)` : String(error));
  }
  const metricsServer = config.METRICS_PORT
    ? await startMetricsServer(metrics, { port: config.METRICS_PORT, host: config.HOST, token: config.METRICS_TOKEN })
    : null;
  const worker = config.DELIVERY_WORKER ? createWorker({ database, config, clock: systemClock, logger, secretBox, metrics }) : null;
  await worker?.start();
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  logger.info('Alertwire is listening', {
    graphiql: `http://${shownHost}:${config.PORT}/graphql`,
    database: describeDatabase(database, config),
    webhookPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS
      ? 'allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true): receivers on loopback/private addresses get deliveries'
      : 'blocked (WEBHOOK_ALLOW_PRIVATE_NETWORKS=false)',
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // close() stops accepting and resolves once in-flight requests have finished.
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // Subscription streams (SSE) never finish by themselves; give them a moment, then cut them.
      setTimeout(() => server.closeAllConnections(), 2000).unref();
    });
    metricsServer?.close();
    await worker?.stop(); // stops claiming, finishes sends in flight, releases the rest
    await app.dispose(); // closes the rate-limit store's Redis connection
    await database.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Alertwire failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
