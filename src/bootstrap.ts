import { isNotNull } from 'drizzle-orm';
import { createDb, type Database } from './db/client.js';
import { describeConnectError } from './db/connect-errors.js';
import { restrictNewFiles } from './db/data-dir.js';
import type { EmbeddedStart } from './db/embedded-start.js';
import { PGLITE_TEMPLATE_DIR } from './package-files.js';
import { webhooks } from './db/tables.js';
import type { Config } from './env.js';
import { createLogger, type Logger } from './logger.js';
import { loadSecretBox, type SecretBox } from './modules/webhooks/secret-box.js';

export interface Runtime {
  logger: Logger;
  database: Database;
  secretBox: SecretBox;
}

/**
 * What both entry points (API and worker) start from: a migrated database and the secret key.
 * `started`: the embedded database, already starting on this config's DATA_DIR (main.ts).
 */
export async function openRuntime(
  config: Config,
  { logger = createLogger(config.LOG_LEVEL), started }: { logger?: Logger; started?: EmbeddedStart | undefined } = {},
): Promise<Runtime> {
  if (!config.DATABASE_URL) restrictNewFiles();
  const database = await createDb({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    templateDir: PGLITE_TEMPLATE_DIR,
    thread: true,
    started,
    onLooseFiles: (paths) =>
      logger.warn('DATA_DIR held files other users could read or write; they are owner-only now (0700/0600)', {
        dataDir: config.DATA_DIR,
        count: paths.length,
        examples: paths.slice(0, 3),
      }),
  });
  try {
    await database.migrate();
  } catch (error) {
    const reason = config.DATABASE_URL ? describeConnectError(error, config.DATABASE_URL) : undefined;
    if (!reason) throw error;
    await database.close().catch(() => {});
    throw new Error(reason, { cause: error });
  }
  const secretBox = loadSecretBox({
    key: config.SECRET_ENCRYPTION_KEY,
    previousKey: config.SECRET_ENCRYPTION_KEY_PREVIOUS,
    dataDir: config.DATA_DIR,
  });
  if (config.DATABASE_URL && !config.SECRET_ENCRYPTION_KEY) {
    logger.warn('SECRET_ENCRYPTION_KEY is not set: webhook secrets are sealed with a key generated in DATA_DIR; every process on this database needs that same key (set SECRET_ENCRYPTION_KEY)', {
      keyFile: `${config.DATA_DIR}/secret-encryption.key`,
    });
  }
  await warnAboutUnreadableSecrets(database, secretBox, logger);
  return { logger, database, secretBox };
}

/** Says at start, not at the first delivery, when stored secrets were sealed with a key we lack. */
async function warnAboutUnreadableSecrets(database: Database, secretBox: SecretBox, logger: Logger): Promise<void> {
  const rows = await database.db
    .selectDistinct({ keyId: webhooks.secretKeyId, previousKeyId: webhooks.previousSecretKeyId })
    .from(webhooks)
    .where(isNotNull(webhooks.secretKeyId));
  const ids = new Set(rows.flatMap((r) => [r.keyId, r.previousKeyId]).filter((id): id is string => id !== null));
  const unknown = [...ids].filter((id) => !secretBox.hasKey(id));
  if (unknown.length > 0) {
    logger.warn(
      'some webhook secrets were sealed with a key that is not configured; their deliveries will fail until SECRET_ENCRYPTION_KEY or SECRET_ENCRYPTION_KEY_PREVIOUS holds it',
      { unknownKeyIds: unknown },
    );
  }
}

export function describeDatabase(database: Database, config: Config): string {
  return database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL (DATABASE_URL)';
}

/**
 * Runs `start` with SIGINT/SIGTERM handlers already installed: a signal that arrives while it
 * runs waits for it to finish, then `stop` runs and the process exits 0. Resolves true once
 * started, false when a signal came first (shutdown then owns the exit: say nothing more).
 */
export async function startUntilSignal(logger: Logger, start: () => Promise<void>, stop: () => Promise<void>): Promise<boolean> {
  let starting: Promise<void> = Promise.resolve();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await starting.catch(() => {});
    await stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  starting = start();
  await starting.catch((error: unknown) => {
    if (!stopping) throw error;
  });
  return !stopping;
}
