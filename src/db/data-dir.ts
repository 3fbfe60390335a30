import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The embedded database's folder holds API-key hashes and the secret key: owner only. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

class DataDirInvalid extends Error {
  override name = 'DataDirInvalid';
}

/**
 * Makes DATA_DIR (0700) if needed and refuses a `pgdata` that is not empty yet lacks PG_VERSION:
 * PGlite would initialise it again and serve an empty database over the damaged one.
 */
function prepareDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  const pgdata = path.join(dataDir, 'pgdata');
  if (!existsSync(pgdata)) return;
  if (!lstatSync(pgdata).isDirectory()) throw new DataDirInvalid(`${pgdata} is not a folder: move it away, or set DATA_DIR elsewhere`);
  if (readdirSync(pgdata).length > 0 && !existsSync(path.join(pgdata, 'PG_VERSION'))) {
    throw new DataDirInvalid(
      `${pgdata} is not a valid database (PG_VERSION is missing): restore it from a backup, or move it away to start empty`,
    );
  }
}

/** Sets DATA_DIR and everything under it to owner-only; returns the paths that were open to others. */
export function tightenDataDir(dataDir: string): string[] {
  const loosened: string[] = [];
  const visit = (file: string) => {
    const stat = lstatSync(file);
    if (stat.isSymbolicLink()) return;
    const wanted = stat.isDirectory() ? DIR_MODE : FILE_MODE;
    if ((stat.mode & 0o077) !== 0) {
      loosened.push(file);
      chmodSync(file, stat.isDirectory() ? wanted : (stat.mode & 0o700) | wanted);
    }
    if (stat.isDirectory()) for (const name of readdirSync(file)) visit(path.join(file, name));
  };
  if (existsSync(dataDir)) visit(dataDir);
  return loosened;
}

/** True when `pgdata` has no store yet (missing or empty): an image may be loaded into it. */
function isFreshPgdata(pgdata: string): boolean {
  return !existsSync(pgdata) || readdirSync(pgdata).length === 0;
}

/**
 * Files the embedded database creates while running (new relations, WAL) are owner-only too.
 * Not those PostgreSQL writes through fopen (pg_internal.init): PGlite creates them 0644 whatever
 * the umask, so createDb tightens again once the store is open, and the next claim tightens what
 * came later. DATA_DIR itself (0700) keeps them from other users meanwhile.
 */
export function restrictNewFiles(): void {
  process.umask(0o077);
}

/** A DATA_DIR this process holds: made, locked and tightened, its store not opened yet. */
export interface ClaimedDataDir {
  readonly dataDir: string;
  readonly pgdata: string;
  /** No store yet: it is made from an image, the template or initdb. */
  readonly fresh: boolean;
  /** Paths that were open to other users; they are owner-only now. */
  readonly looseFiles: string[];
  release(): void;
}

export function claimDataDir(dataDir: string): ClaimedDataDir {
  prepareDataDir(dataDir);
  const release = lockDataDir(dataDir);
  try {
    const looseFiles = tightenDataDir(dataDir);
    const pgdata = path.join(dataDir, 'pgdata');
    return { dataDir, pgdata, fresh: isFreshPgdata(pgdata), looseFiles, release };
  } catch (error) {
    release();
    throw error;
  }
}

class DataDirInUse extends Error {
  override name = 'DataDirInUse';
}

/**
 * PGlite does not lock its folder, and two processes writing one folder corrupt it. A pid file
 * makes the second opener fail with a clear message; a file left by a dead process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const file = path.resolve(dataDir, 'pgdata.lock');
  // Written whole under a name of its own, then linked into place: the lock never exists without
  // its pid, so a second opener never reads it empty and takes it for a dead process's.
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, String(process.pid), { mode: 0o600 });
  try {
    for (let tries = 0; tries < 3; tries++) {
      try {
        linkSync(mine, file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = readPid(file);
        if (pid === undefined) continue; // released meanwhile
        // Our own pid in a file we did not write: a container restarted with the same pid.
        const held = pid === process.pid ? heldLocks.has(file) : isAlive(pid);
        if (held) {
          throw new DataDirInUse(
            `The embedded database in ${dataDir} is in use by process ${pid}: stop it first, or set DATABASE_URL so several processes share a PostgreSQL`,
          );
        }
        rmSync(file, { force: true }); // left by a process that is gone
        continue;
      }
      heldLocks.add(file);
      let held = true;
      // Once only, and only our own file: never a lock another opener has taken since.
      return () => {
        if (!held) return;
        held = false;
        heldLocks.delete(file);
        if (readPid(file) === process.pid) rmSync(file, { force: true });
      };
    }
  } finally {
    rmSync(mine, { force: true });
  }
  throw new DataDirInUse(`Could not lock the embedded database in ${dataDir}`);
}

/** The pid in a lock file; undefined when there is no file. */
function readPid(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

const heldLocks = new Set<string>();

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
