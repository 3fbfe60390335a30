import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { createDb } from './client.js';

/**
 * Runs initdb and every migration into `pgdata` (a store's folder, `<dataDir>/pgdata`) and closes
 * the store cleanly. `npm run build` makes this template; an empty DATA_DIR starts as a copy of
 * it (`createDb({ templateDir })`), which skips initdb, most of a first start. Migrations newer
 * than the template are still applied by `migrate()`.
 */
export async function writePgliteTemplate(pgdata: string): Promise<void> {
  // Made beside the old one and swapped in, so a test or server copying it never sees half a store.
  const building = `${path.dirname(pgdata)}.new`;
  rmSync(building, { recursive: true, force: true });
  const database = await createDb({ dataDir: building });
  try {
    await database.migrate();
    // template0 and template1 serve CREATE DATABASE, which the embedded store never runs; they
    // are 600 of its ~1,030 files, and a fresh DATA_DIR is a file-by-file copy of this template
    // (~1 ms of CPU per file on this VM's disk: bench/RESULTS.md, first start).
    for (const name of ['template0', 'template1']) {
      await database.db.execute(sql.raw(`UPDATE pg_database SET datistemplate = false WHERE datname = '${name}'`));
      await database.db.execute(sql.raw(`DROP DATABASE ${name}`));
    }
  } finally {
    await database.close();
  }
  const old = `${path.dirname(pgdata)}.old`;
  rmSync(old, { recursive: true, force: true });
  if (existsSync(path.dirname(pgdata))) renameSync(path.dirname(pgdata), old);
  renameSync(building, path.dirname(pgdata));
  rmSync(old, { recursive: true, force: true });
}
