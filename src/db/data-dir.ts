import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
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
export function prepareDataDir(dataDir: string): void {
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
export function isFreshPgdata(pgdata: string): boolean {
  return !existsSync(pgdata) || readdirSync(pgdata).length === 0;
}
