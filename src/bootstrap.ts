import { createDb, type Database } from './db/client.js';
import { ConfigError, parseEnv, type Config } from './env.js';
import { createLogger, type Logger } from './logger.js';
import { loadSecretBox, type SecretBox } from './modules/webhooks/secret-box.js';

/** The environment, parsed; a bad value ends the process with one line naming it. */
export function loadConfigOrExit(): Config {
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

export interface Runtime {
  logger: Logger;
  database: Database;
  secretBox: SecretBox;
}

/** What both entry points (API and worker) start from: a migrated database and the secret key. */
export async function openRuntime(config: Config): Promise<Runtime> {
  const logger = createLogger(config.LOG_LEVEL);
  const database = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  await database.migrate();
  const secretBox = loadSecretBox({
    key: config.SECRET_ENCRYPTION_KEY,
    previousKey: config.SECRET_ENCRYPTION_KEY_PREVIOUS,
    dataDir: config.DATABASE_URL ? undefined : config.DATA_DIR,
  });
  return { logger, database, secretBox };
}

export function describeDatabase(database: Database, config: Config): string {
  return database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL (DATABASE_URL)';
}
