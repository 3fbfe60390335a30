import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/client.js';
import { PGLITE_TEMPLATE_DIR } from '../../src/package-files.js';
import { repositoryRoot } from './compiled.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite data-dir image; every PGlite test database starts from it (no initdb). */
    pgliteImage: string;
    /** REDIS_URL of the run, or '' (vitest.config.ts then leaves the Redis tests out). */
    redisUrl: string;
  }
}

/**
 * Builds dist/ when stale (tests spawn the compiled entry points, as `npm start` does), then
 * makes one migrated PGlite image per run from the build's template instead of running initdb
 * and the migrations once per test database (~6 s each).
 */
export default async function setup(project: TestProject): Promise<() => void> {
  execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: repositoryRoot, stdio: 'inherit' });
  const dir = mkdtempSync(path.join(tmpdir(), 'alertwire-image-'));
  const database = await createDb({ dataDir: dir, templateDir: PGLITE_TEMPLATE_DIR });
  await database.migrate();
  const client = (database.db as unknown as { $client: PGlite }).$client;
  const image = path.join(dir, 'pgdata.tar');
  writeFileSync(image, Buffer.from(await (await client.dumpDataDir('none')).arrayBuffer()));
  await database.close();
  project.provide('pgliteImage', image);
  return () => rmSync(dir, { recursive: true, force: true });
}
