import { loadConfigOrExit } from '../src/env.js';
import { createDb } from '../src/db/client.js';
import { PGLITE_TEMPLATE_DIR } from '../src/package-files.js';

const config = loadConfigOrExit();
try {
  const database = await createDb({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, templateDir: PGLITE_TEMPLATE_DIR });
  await database.migrate();
  await database.close();
  console.log(`migrations applied (${database.kind})`);
} catch (error) {
  console.error(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
