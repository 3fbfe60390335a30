import { cpSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { claimDataDir, tightenDataDir, type ClaimedDataDir } from './data-dir.js';
import { withDeadline } from './deadline.js';
import { newStoreSource, startEmbedded, type EmbeddedStart } from './embedded-start.js';
import { openPgliteThread } from './pglite-thread.js';
import { delayWasmTierUp, EMSCRIPTEN_ERRNO_NAMES, PGLITE_POSTGRESQL_CONF } from './pglite-thread-start.js';
import { queryRows } from './rows.js';
import { MIGRATIONS_FOLDER } from '../package-files.js';
import { tables, type Tables } from './tables.js';

/** A drizzle database or transaction: both backends share this type and every query path. */
export type Db = PgDatabase<PgQueryResultHKT, Tables>;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** For background work (worker, evaluator, scripts): on PostgreSQL each round trip fails after 30 s. */
  readonly db: Db;
  /**
   * The same database, each round trip to PostgreSQL failing after `ms` with a
   * DatabaseDeadlineError (see deadline.ts); PGlite runs in this process and is returned as is.
   */
  withDeadline(ms: number): Db;
  /** Applies pending migrations; several processes starting at once migrate one at a time. */
  migrate(): Promise<void>;
  /**
   * Subscribes to a NOTIFY channel; resolves to a function that unsubscribes. `onListen` runs each
   * time the subscription is (re)established: postgres.js listens again after a reconnect, and
   * notifications sent in between are lost.
   */
  listen(channel: string, onPayload: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DbConfig {
  /** Postgres URL; when absent the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** Folder of the embedded database; absent means in memory. */
  dataDir?: string | undefined;
  /**
   * A PGlite data-dir image (from `dumpDataDir`) to start an empty store from instead of running
   * initdb, which costs seconds; ignored for Postgres and for a folder that already holds a store.
   */
  image?: Blob | File | undefined;
  /**
   * A closed, migrated PGlite data folder (`npm run build` makes one) copied into an empty
   * `dataDir`: a plain file copy, cheaper than unpacking an image and far cheaper than initdb.
   */
  templateDir?: string | undefined;
  /**
   * Runs PGlite in a worker thread (src/db/pglite-thread.ts), so its queries do not stall HTTP
   * and webhook sends on the main thread, and its start overlaps the app's module loading.
   */
  thread?: boolean | undefined;
  /** The embedded database already on its way up (startEmbedded): adopted instead of started here. */
  started?: EmbeddedStart | undefined;
  /** Told of files in dataDir that were open to other users (they are made owner-only at start). */
  onLooseFiles?: (paths: string[]) => void;
}

// Any constant works; it only has to be the same in every Alertwire process.
const MIGRATION_LOCK_KEY = 7_242_001;

const CONNECT_TIMEOUT_SECONDS = 1;
const STATEMENT_TIMEOUT_MS = 5000;
// Background work only has to notice a server that never answers: far above statement_timeout,
// so it never cuts a statement the server would finish, and not the request path's deadline.
const BACKGROUND_DEADLINE_MS = 30_000;

let newestMigration: number | undefined;

/** True when the newest migration shipped with this code has been applied to the database. */
export async function isMigrated(db: Db): Promise<boolean> {
  // The journal ships with the code: read it once, not on every readiness probe. Its `when` is
  // what drizzle's migrator records as a migration's created_at.
  newestMigration ??= (JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: { when: number }[] }).entries.at(-1)!.when;
  const newest = newestMigration;
  const [row] = await queryRows<{ applied: string | null }>(
    db,
    sql`select max(created_at)::text as applied from drizzle.__drizzle_migrations /* isMigrated */`,
  );
  return Number(row?.applied ?? 0) >= newest;
}

/**
 * Migrates unless the newest migration is already applied: drizzle's migrator reads and hashes
 * every migration file and runs several statements, on every start's critical path; one query
 * tells the usual case (a restart) apart. The migrator applies only migrations newer than the
 * newest applied one, so skipping it then changes nothing. A database it cannot ask (no
 * migrations table yet, or unreachable) goes to the migrator, which creates it or says why.
 */
async function migrateUnlessCurrent(db: Db, migrate: () => Promise<void>): Promise<void> {
  if (await isMigrated(db).catch(() => false)) return;
  await migrate();
}

export async function createDb(config: DbConfig): Promise<Database> {
  return config.databaseUrl ? createPostgres(config.databaseUrl) : createPglite(config);
}

async function createPglite({ dataDir, image, templateDir, thread, started, onLooseFiles }: DbConfig): Promise<Database> {
  let client: PGlite | undefined;
  let folder: ClaimedDataDir | undefined;
  try {
    const start =
      started ?? (thread ? startEmbedded({ dataDir, templateDir, image: image && new Uint8Array(await image.arrayBuffer()) }) : undefined);
    folder = start ? start.folder : dataDir ? claimDataDir(dataDir) : undefined;
    if (folder && folder.looseFiles.length > 0) onLooseFiles?.(folder.looseFiles);
    try {
      if (start) {
        client = await openPgliteThread(start.thread);
      } else {
        const source = newStoreSource(folder, { image, templateDir });
        if (source.templateDir) copyTemplate(source.templateDir, folder!.pgdata);
        const options = { postgresqlconf: PGLITE_POSTGRESQL_CONF, ...(source.image ? { loadDataDir: source.image } : {}) };
        const restoreTierUp = delayWasmTierUp();
        try {
          client = folder ? new PGlite(folder.pgdata, options) : new PGlite(options);
          await client.waitReady;
        } finally {
          restoreTierUp();
        }
      }
    } catch (error) {
      throw openFailure(folder, error);
    }
    // A new store's files (initdb, the image or the template) were written with the process umask,
    // and PostgreSQL's pg_internal.init at start 0644 whatever the umask (restrictNewFiles).
    if (folder) tightenDataDir(folder.dataDir);
  } catch (error) {
    await client?.close().catch(() => {});
    folder?.release();
    throw error;
  }
  const pglite = client;
  const db = drizzlePglite(pglite, { schema: tables }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    withDeadline: () => db,
    // One PGlite owns its data folder, so there is no other process to race with.
    migrate: () => migrateUnlessCurrent(db, () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER })),
    // In-process: the subscription cannot be lost, so it is established once.
    listen: async (channel, onPayload, onListen) => {
      const unlisten = await pglite.listen(channel, onPayload);
      onListen?.();
      return unlisten;
    },
    close: async () => {
      try {
        await pglite.close();
      } finally {
        folder?.release();
      }
    },
  };
}

/**
 * PGlite's own words for a store that will not start ("PGlite failed to initialize properly",
 * "Aborted()") say neither which folder nor what to do: the user's error names both.
 */
export function openFailure(folder: Pick<ClaimedDataDir, 'pgdata' | 'fresh'> | undefined, error: unknown): unknown {
  if (!folder) return error;
  const reason = describeThrown(error);
  if (folder.fresh) return new Error(`could not create the embedded database in ${folder.pgdata} (${reason})`, { cause: error });
  // Permissions, a full disk, too many open files: the store is intact, and moving it away would lose it.
  const advice = OS_REFUSALS.test(reason)
    ? 'check that this user may read and write the folder, and that the disk has room'
    : 'if the folder is damaged, restore DATA_DIR from a backup, or move it away to start with an empty database';
  return new Error(`could not open the embedded database in ${folder.pgdata} (${reason}): ${advice}`, { cause: error });
}

// Node's codes, the names PGlite's thread gives Emscripten's errnos, and PostgreSQL's own words
// (glibc's, and musl's, which PGlite's PostgreSQL is built with).
const OS_REFUSALS = new RegExp(
  [
    '\\b(EACCES|EPERM|EROFS|ENOSPC|EDQUOT|EMFILE|ENFILE|ENOMEM)\\b',
    'Permission denied|Operation not permitted|No space left on device|Read-only file system',
    'Too many open files|No file descriptors available|Disk quota exceeded|Quota exceeded',
  ].join('|'),
);

/** An error's message; Emscripten's file-system errors are plain objects ({ name: 'ErrnoError', errno }). */
function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message; // Node's own carry their code ("EACCES: permission denied, …")
  const { name, errno } = (error ?? {}) as { name?: unknown; errno?: unknown };
  if (name === 'ErrnoError' && typeof errno === 'number') return `file-system error ${EMSCRIPTEN_ERRNO_NAMES[errno] ?? `errno ${errno}`}`;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error); // circular, or a BigInt inside
  }
}

/** Copies into a temporary sibling and renames it, so an interrupted copy never looks like a store. */
function copyTemplate(templateDir: string, pgdata: string): void {
  const partial = `${pgdata}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(templateDir, partial, { recursive: true });
  renameSync(partial, pgdata);
}

async function createPostgres(url: string): Promise<Database> {
  const client = postgres(url, {
    max: 10,
    onnotice: () => {},
    // An unreachable server fails a request in about a second instead of the default 30 s, and
    // no statement holds a connection (and a request) for long.
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    connection: { statement_timeout: STATEMENT_TIMEOUT_MS },
    // postgres.js's array-type lookup, the first statement of every new connection, drops its
    // promise: a connection lost during it (a PostgreSQL outage) raised an unhandled rejection,
    // which ends a Node process (porsager/postgres#1192; seen in test/postgres-outage.test.ts).
    // Nothing needs it: array columns go through drizzle's own array encoding, and array
    // parameters are passed as text literals cast in SQL.
    fetch_types: false,
  });
  // One handle per deadline: what is cached per handle (prepared queries) is then cached once.
  const handles = new Map<number, Db>();
  const timed = (ms: number): Db => {
    let db = handles.get(ms);
    if (!db) {
      db = drizzlePostgres(withDeadline(client, ms, BACKGROUND_DEADLINE_MS), { schema: tables }) as unknown as Db;
      handles.set(ms, db);
    }
    return db;
  };
  return {
    kind: 'postgres',
    db: timed(BACKGROUND_DEADLINE_MS),
    withDeadline: timed,
    migrate: () => migratePostgresLocked(url),
    listen: async (channel, onPayload, onListen) => {
      const { unlisten } = await client.listen(channel, onPayload, onListen);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/** A session advisory lock needs one connection for lock, migration and unlock. */
async function migratePostgresLocked(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const db = drizzlePostgres(client);
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    try {
      await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}
