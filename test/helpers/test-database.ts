import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createDb, type Database } from '../../src/db/client.js';
import { PGLITE_TEMPLATE_DIR } from '../../src/package-files.js';

/** Which backend this run tests: DATABASE_URL set means the real Postgres, else PGlite. */
export const backend = process.env.DATABASE_URL ? 'postgres' : 'pglite';

let image: Blob | undefined;

/** The migrated image made once per run by global-setup.ts. */
export function pgliteImage(): Blob {
  image ??= new Blob([readFileSync(inject('pgliteImage'))]);
  return image;
}

export interface TestDatabaseSource {
  /** Opens (and migrates) a connection to this test's database; call again to "restart". */
  open(): Promise<Database>;
  /** Drops the database (Postgres) once every connection is closed. */
  destroy(): Promise<void>;
  url?: string;
}

/**
 * A database of this test file's own: a fresh Postgres database on DATABASE_URL, or PGlite
 * (in memory, or in `dataDir` so that a second open() sees the same data).
 */
export async function createTestDatabaseSource(options: { dataDir?: string } = {}): Promise<TestDatabaseSource> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const openPglite = async () => {
      // A data folder starts as a file copy of the build's template, cheaper than unpacking the
      // image through PGlite's file system; in memory there is no folder to copy into.
      const start = options.dataDir ? { dataDir: options.dataDir, templateDir: PGLITE_TEMPLATE_DIR } : { image: pgliteImage() };
      const database = await createDb(start);
      await database.migrate();
      return database;
    };
    return options.dataDir ? { open: openPglite, destroy: async () => {} } : sharedInMemory(openPglite);
  }
  const name = `aw_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    ...postgresSource(url.toString()),
    async destroy() {
      const client = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await client.unsafe(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** A source on a PostgreSQL the test owns (private-services.ts); destroy() leaves the server to its owner. */
export function postgresSource(url: string): TestDatabaseSource {
  return {
    url,
    async open() {
      const database = await createDb({ databaseUrl: url });
      await database.migrate();
      return database;
    },
    destroy: async () => {},
  };
}

/**
 * One in-memory PGlite per source, as a Postgres source is one database: every open() is a
 * handle to it (apps built on one source see each other's data on both backends), and starting
 * a PGlite costs a second or more. It closes when its last handle does.
 */
function sharedInMemory(openPglite: () => Promise<Database>): TestDatabaseSource {
  let shared: Promise<Database> | undefined;
  let handles = 0;
  return {
    async open() {
      handles += 1;
      shared ??= openPglite();
      const database = await shared;
      const unlistens: (() => Promise<void>)[] = [];
      let closed = false;
      return {
        ...database,
        async listen(channel, onPayload, onListen) {
          const unlisten = await database.listen(channel, onPayload, onListen);
          unlistens.push(unlisten);
          return unlisten;
        },
        async close() {
          if (closed) return;
          closed = true;
          await Promise.all(unlistens.map((unlisten) => unlisten()));
          if (--handles === 0) {
            shared = undefined;
            await database.close();
          }
        },
      };
    },
    async destroy() {
      const database = await shared;
      shared = undefined;
      handles = 0;
      await database?.close();
    },
  };
}
