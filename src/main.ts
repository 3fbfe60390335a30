import { createServer } from 'node:http';
import { createApp } from './app.js';
import { systemClock } from './clock.js';
import { createDb } from './db/client.js';
import { ConfigError, parseEnv, type Config } from './env.js';
import { createLogger } from './logger.js';
import { loadSecretBox } from './modules/webhooks/secret-box.js';

function loadConfig(): Config {
  try {
    return parseEnv(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const database = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  await database.migrate();
  const secretBox = loadSecretBox({
    key: config.SECRET_ENCRYPTION_KEY,
    previousKey: config.SECRET_ENCRYPTION_KEY_PREVIOUS,
    dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR,
  });
  const app = createApp({ database, config, clock: systemClock, logger, secretBox });

  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(config.PORT, config.HOST, resolve));
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST;
  logger.info('Alertwire is listening', {
    graphiql: `http://${shownHost}:${config.PORT}/graphql`,
    database: database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL (DATABASE_URL)',
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
    });
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
