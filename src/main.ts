import type { Server } from 'node:http';
import type { EmbeddedStart } from './db/embedded-start.js';
import { spawnPgliteThread } from './db/pglite-thread-start.js';
import type { DeliveryWorker } from './delivery/delivery-worker.js';
import type { AlertEvaluator } from './modules/alerts/alert-evaluator.js';

// The embedded database's thread, spawned before anything else loads: PostgreSQL's start in
// WASM is the start's longest path, and the thread starts up and loads PGlite while this one
// reads the configuration. It opens nothing until told (startEmbedded below), so a bad
// configuration still ends the start before DATA_DIR is touched.
const embeddedThread = process.env.DATABASE_URL ? undefined : spawnEarly();

function spawnEarly() {
  try {
    return spawnPgliteThread();
  } catch {
    return undefined; // startEmbedded spawns it again and reports why in the start's one line
  }
}

async function main(): Promise<void> {
  const [{ loadConfigOrExit }, { restrictNewFiles }, { startEmbedded }, { PGLITE_TEMPLATE_DIR }] = await Promise.all([
    import('./env.js'),
    import('./db/data-dir.js'),
    import('./db/embedded-start.js'),
    import('./package-files.js'),
  ]);
  const config = loadConfigOrExit();
  let embedded: EmbeddedStart | undefined;
  if (config.DATABASE_URL) {
    void embeddedThread?.worker.terminate();
  } else {
    restrictNewFiles();
    embedded = startEmbedded({ dataDir: config.DATA_DIR, templateDir: PGLITE_TEMPLATE_DIR, thread: embeddedThread });
  }
  const { describeDatabase, openRuntime, startUntilSignal } = await import('./bootstrap.js');
  const runtime = openRuntime(config, { started: embedded });
  runtime.catch(() => {}); // awaited below; no unhandled rejection while the import runs
  const [{ createApp }, { seedDemoQuotes }, { systemClock }, { createHttpServer }, { createMetrics }, { startMetricsServer }] =
    await Promise.all([
      import('./app.js'),
      import('./modules/quotes/demo-quotes.js'),
      import('./clock.js'),
      import('./http/server.js'),
      import('./metrics/metrics.js'),
      import('./metrics/metrics-server.js'),
    ]);
  const { logger, database, secretBox } = await runtime;
  // Demo quotes only for the embedded database: a real DATABASE_URL never gets made-up prices.
  if (database.kind === 'pglite' && (await seedDemoQuotes(database.db, systemClock))) {
    logger.info('loaded DEMO quotes (made-up prices, not market data) into the fresh embedded database');
  }
  const metrics = createMetrics();
  const app = createApp({ database, config, clock: systemClock, logger, secretBox, metrics });
  const server = createHttpServer(app);
  try {
    // Listen before the worker starts: a taken port must not leave a worker sending.
    await server.listen(config.PORT, config.HOST);
  } catch (error) {
    await app.dispose();
    await database.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'EADDRINUSE' ? `port ${config.PORT} on ${config.HOST} is already in use (set PORT)` : String(error));
  }
  // /ready answers from here on, so a signal can arrive before the worker and the evaluator have
  // started: a shutdown then waits for the start to finish first.
  let metricsServer: Server | null = null;
  let worker: DeliveryWorker | null = null;
  let evaluator: AlertEvaluator | null = null;
  const started = await startUntilSignal(
    logger,
    async () => {
      const { createEvaluator, createWorker } = await import('./background.js');
      metricsServer = config.METRICS_PORT
        ? await startMetricsServer(metrics, { port: config.METRICS_PORT, host: config.HOST, token: config.METRICS_TOKEN })
        : null;
      worker = config.DELIVERY_WORKER ? createWorker({ database, config, clock: systemClock, logger, secretBox, metrics }) : null;
      await worker?.start();
      evaluator = createEvaluator({ database, config, clock: systemClock, logger, secretBox });
      await evaluator.start();
    },
    async () => {
      // Requests in flight finish before the pool below closes; subscription streams are cut. The
      // worker stops meanwhile (it stops claiming, finishes its sends in flight, releases the rest):
      // the two waits overlap instead of adding up.
      const workerStopped = worker?.stop();
      workerStopped?.catch(() => {}); // awaited below
      await server.close(config.SHUTDOWN_GRACE_MS);
      await evaluator?.stop(); // a pass in progress commits or rolls back; changes left wait in the database
      metricsServer?.close();
      await workerStopped;
      await app.dispose(); // closes the rate-limit store's Redis connection
      await database.close();
    },
  );
  if (!started) return;
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  logger.info('Alertwire is listening', {
    graphiql: `http://${shownHost}:${config.PORT}/graphql`,
    database: describeDatabase(database, config),
    webhookPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS
      ? 'allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true): receivers on loopback/private addresses get deliveries'
      : 'blocked (WEBHOOK_ALLOW_PRIVATE_NETWORKS=false)',
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`Alertwire failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
