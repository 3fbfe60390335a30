import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/client.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite data-dir image; every PGlite test database starts from it (no initdb). */
    pgliteImage: string;
  }
}

/** Runs initdb and the migrations once per run instead of once per test database (~6 s each). */
export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertwire-image-'));
  const database = await createDb({});
  await database.migrate();
  const client = (database.db as unknown as { $client: { dumpDataDir(c: 'none'): Promise<Blob> } }).$client;
  const image = path.join(dir, 'pgdata.tar');
  writeFileSync(image, Buffer.from(await (await client.dumpDataDir('none')).arrayBuffer()));
  await database.close();
  project.provide('pgliteImage', image);
  return () => rmSync(dir, { recursive: true, force: true });
}
