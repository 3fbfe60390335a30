import { rmSync } from 'node:fs';
import path from 'node:path';
import { createDb } from './client.js';

/**
 * Runs initdb and every migration into `pgdata` (a store's folder, `<dataDir>/pgdata`) and closes
 * the store cleanly. `npm run build` makes this template; an empty DATA_DIR starts as a copy of
 * it (`createDb({ templateDir })`), which skips initdb, most of a first start. Migrations newer
 * than the template are still applied by `migrate()`.
 */
export async function writePgliteTemplate(pgdata: string): Promise<void> {
  const dataDir = path.dirname(pgdata);
  rmSync(dataDir, { recursive: true, force: true });
  const database = await createDb({ dataDir });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
}
