import { existsSync } from 'node:fs';
import { claimDataDir, type ClaimedDataDir } from './data-dir.js';
import { spawnPgliteThread, type PgliteThread, type SpawnedPgliteThread } from './pglite-thread-start.js';

/** The embedded database on its way up: its folder claimed and PGlite starting in its thread. */
export interface EmbeddedStart {
  /** Absent for an in-memory database. */
  readonly folder: ClaimedDataDir | undefined;
  readonly thread: PgliteThread;
}

export interface EmbeddedStartOptions {
  dataDir?: string | undefined;
  /** A data-dir image to start an empty store from. */
  image?: Uint8Array | undefined;
  /** A closed, migrated store to copy into an empty folder (unless an image is given). */
  templateDir?: string | undefined;
  /** A thread spawned earlier (main.ts) and not opened yet; default: a new one. */
  thread?: SpawnedPgliteThread | undefined;
}

/**
 * Claims the folder and tells PGlite's thread what to open (spawning the thread unless given one);
 * `createDb({ started })` adopts the result. Only Node's own modules are imported here, so
 * `npm start` calls this before loading the app, and PostgreSQL's start in WASM overlaps the
 * app's loading.
 */
export function startEmbedded({ dataDir, image, templateDir, thread }: EmbeddedStartOptions): EmbeddedStart {
  let folder: ClaimedDataDir | undefined;
  try {
    folder = dataDir ? claimDataDir(dataDir) : undefined;
    const source = newStoreSource(folder, { image, templateDir });
    thread ??= spawnPgliteThread();
    thread.open({ dataDir: folder?.pgdata, loadDataDir: source.image, templateDir: source.templateDir });
    return { folder, thread };
  } catch (error) {
    folder?.release();
    void thread?.worker.terminate();
    throw error;
  }
}

/**
 * What a store is made from when its folder has none (an in-memory one always is new): the
 * image if given, else a copy of the template if there is one, else initdb (neither). An
 * existing store is opened as it is.
 */
export function newStoreSource<Image>(
  folder: ClaimedDataDir | undefined,
  { image, templateDir }: { image?: Image | undefined; templateDir?: string | undefined },
): { image?: Image; templateDir?: string } {
  if (folder && !folder.fresh) return {};
  if (image) return { image };
  return folder && templateDir && existsSync(templateDir) ? { templateDir } : {};
}
