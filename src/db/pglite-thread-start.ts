import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';

/**
 * Starts the thread that runs PGlite (src/db/pglite-thread.ts has the client half). This module
 * imports nothing but Node's own, so `npm start` can start the thread before the app loads.
 */

// CommonJS in an eval'd worker: it needs no file of its own, so tsx, vitest and dist/ all run it.
// The thread loads PGlite as soon as it is spawned; what to open (the folder, an image, a
// template to copy) comes in its first message, `open`.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const v8 = require('node:v8');
const { PGlite } = require(workerData.pglitePath);
async function open(start) {
  if (start.templateDir) {
    // copyTemplate() of client.ts, here because this thread cannot load an ES module on Node 20.
    const partial = start.dataDir + '.partial';
    fs.rmSync(partial, { recursive: true, force: true });
    fs.cpSync(start.templateDir, partial, { recursive: true });
    fs.renameSync(partial, start.dataDir);
  }
  const options = { postgresqlconf: start.postgresqlconf };
  if (start.loadDataDir) options.loadDataDir = new Blob([start.loadDataDir]);
  // delayWasmTierUp() of pglite-thread-start.ts, for this thread's PGlite (tierUp null: not tuned).
  const { tierUp } = workerData;
  if (tierUp) v8.setFlagsFromString(tierUp.delayed);
  try {
    const pg = start.dataDir ? new PGlite(start.dataDir, options) : new PGlite(options);
    await pg.waitReady;
    pg.onNotification((channel, payload) => parentPort.postMessage({ notification: { channel, payload } }));
    return pg;
  } finally {
    if (tierUp) v8.setFlagsFromString(tierUp.restored);
  }
}
// Emscripten's file-system errors are not Errors: { name: 'ErrnoError', errno } (EMSCRIPTEN_ERRNO_NAMES).
const ERRNO_NAMES = workerData.errnoNames;
const asError = (error) => {
  if (error instanceof Error) return error;
  if (error && error.name === 'ErrnoError') {
    return new Error('file-system error ' + (ERRNO_NAMES[error.errno] || 'errno ' + error.errno) + ' (Emscripten)');
  }
  return new Error(error && error.message ? error.message : JSON.stringify(error));
};
let opened;
const store = () => opened ?? Promise.reject(new Error('the embedded database was not opened'));
const methods = {
  ready: async () => {
    await store();
    return null;
  },
  execProtocolStream: async (message) => (await store()).execProtocolStream(message, { syncToFs: false }),
  syncToFs: async () => (await store()).syncToFs(),
  close: async () => (await store()).close(),
};
parentPort.on('message', async ({ open: start, id, method, args }) => {
  if (start) {
    opened = open(start);
    // A store that cannot open or start ends the thread with the reason (PgliteThread.stopped).
    opened.catch((error) => process.nextTick(() => { throw asError(error); }));
    return;
  }
  try {
    parentPort.postMessage({ id, result: await methods[method](...args) });
  } catch (error) {
    const fields = {};
    if (error && typeof error === 'object') {
      for (const key of Object.keys(error)) if (typeof error[key] !== 'function') fields[key] = error[key];
    }
    parentPort.postMessage({ id, error: { message: asError(error).message, fields } });
  }
});
`;

/**
 * Emscripten's own numbers for the usual file-system errors (ERRNO_CODES in PGlite's pglite.js):
 * its ErrnoError carries only the number.
 */
export const EMSCRIPTEN_ERRNO_NAMES: Readonly<Record<number, string>> = {
  2: 'EACCES',
  10: 'EBUSY',
  19: 'EDQUOT',
  20: 'EEXIST',
  28: 'EINVAL',
  29: 'EIO',
  31: 'EISDIR',
  33: 'EMFILE',
  37: 'ENAMETOOLONG',
  41: 'ENFILE',
  44: 'ENOENT',
  48: 'ENOMEM',
  51: 'ENOSPC',
  54: 'ENOTDIR',
  55: 'ENOTEMPTY',
  63: 'EPERM',
  69: 'EROFS',
};

// PostgreSQL's default 128 MB buffer cache is WASM memory that an idle embedded server keeps
// resident; the quickstart's data fits a smaller one (bench/RESULTS.md, idle RSS).
export const PGLITE_POSTGRESQL_CONF = ['shared_buffers=32MB'];

interface PgliteThreadStart {
  /** Data folder (absent: in memory); already claimed (data-dir.ts). */
  dataDir?: string | undefined;
  /** A data-dir image to start an empty store from. */
  loadDataDir?: Uint8Array | undefined;
  /** A closed store to copy into the new `dataDir` first (the thread copies it). */
  templateDir?: string | undefined;
}

export interface PgliteThread {
  readonly worker: Worker;
  /** Resolves when the thread has stopped, with the error that stopped it, if any. */
  readonly stopped: Promise<Error | undefined>;
}

// V8's WASM tier-up budget (roughly bytes of code run per function before TurboFan recompiles
// it): 100× the default while PostgreSQL starts, then the default again. The default is V8's,
// checked on Node 20 (V8 11.3: 1,800,000, `node --v8-options`); other V8 versions have others,
// and setting one back to a wrong "default" would leave it changed for good, so elsewhere, or
// when the user sets the flag, nothing is changed.
const TIER_UP = {
  delayed: '--wasm-tiering-budget=180000000',
  restored: '--wasm-tiering-budget=1800000',
};
const tierUpTuned =
  process.versions.v8.startsWith('11.3.') &&
  ![...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => arg.includes('--wasm-tiering-budget'));

/**
 * PostgreSQL's start in WASM runs many functions hot enough that V8 recompiles them with TurboFan
 * meanwhile: ~0.4–0.8 s of CPU, on a 2-core machine whose other core is loading the app. V8 gives
 * a module's functions their budget when it compiles the module (instances, and PGlite's cached
 * compiled module, share it): under the raised budget the start runs in baseline (Liftoff)
 * code, and what stays hot under load still tiers up, after 100× more work (bench/RESULTS.md,
 * first start). V8 flags are per process, and while one differs from its default V8 rejects the
 * code cache of Node's own modules (compiling Node's fetch took 83 ms instead of 38): so the
 * budget is raised just before a PGlite compiles its WASM, and the returned function sets the
 * default back once it has started. Later PGlites of the process reuse the compiled module.
 */
export function delayWasmTierUp(): () => void {
  if (!tierUpTuned) return () => {};
  setFlagsFromString(TIER_UP.delayed);
  return () => setFlagsFromString(TIER_UP.restored);
}

/** A thread that is loading PGlite, not yet told what to open: see spawnPgliteThread. */
export interface SpawnedPgliteThread extends PgliteThread {
  /** Opens the store; the thread answers queries once it is up (openPgliteThread). Once only. */
  open(start: PgliteThreadStart): void;
}

/**
 * Spawns PGlite's thread, which starts up and loads PGlite while the caller still reads its
 * configuration and claims the folder; `open` says what to open. Until then the thread has
 * touched nothing on disk.
 */
export function spawnPgliteThread(): SpawnedPgliteThread {
  const pglitePath = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { pglitePath, tierUp: tierUpTuned ? TIER_UP : null, errnoNames: EMSCRIPTEN_ERRNO_NAMES } });
  // Watched from the start: the client may attach later (npm start), and an 'error' event with
  // no listener would end the process instead of failing the start with its reason.
  let failure: Error | undefined;
  worker.on('error', (error) => {
    failure = error;
  });
  const stopped = new Promise<Error | undefined>((resolve) => worker.once('exit', () => resolve(failure)));
  return {
    worker,
    stopped,
    // Posted before any call of the client (pglite-thread.ts), so the thread reads it first.
    open: (start) => worker.postMessage({ open: { ...start, postgresqlconf: PGLITE_POSTGRESQL_CONF } }),
  };
}
