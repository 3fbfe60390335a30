import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { messages, Mutex, type PGlite } from '@electric-sql/pglite';
import { PGliteWorker } from '@electric-sql/pglite/worker';

/**
 * PGlite is PostgreSQL compiled to WASM: every query is CPU work on the thread that runs it. On
 * the main thread it stalls HTTP and webhook sends; here it runs in a worker thread, and the main
 * thread keeps only PGlite's client half (BasePGlite: query building, parsing, locks), which
 * sends each wire-protocol message over and gets the backend messages back. This is the split of
 * PGlite's own browser worker (`@electric-sql/pglite/worker`), which needs Web Locks and
 * BroadcastChannel tabs that Node 20 lacks.
 */

// The class PGliteWorker extends: PGlite's protocol client, not exported by name.
const BasePGlite = Object.getPrototypeOf(PGliteWorker) as abstract new () => PGlite;

interface Reply {
  id: number;
  result?: unknown;
  error?: { message: string; fields: Record<string, unknown> };
}

interface NotificationEvent {
  notification: { channel: string; payload: string };
}

// CommonJS in an eval'd worker: it needs no file of its own, so tsx, vitest and dist/ all run it.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { PGlite } = require(workerData.pglitePath);
if (workerData.templateDir) {
  // copyTemplate() of client.ts, here because this thread cannot load an ES module on Node 20.
  const partial = workerData.dataDir + '.partial';
  fs.rmSync(partial, { recursive: true, force: true });
  fs.cpSync(workerData.templateDir, partial, { recursive: true });
  fs.renameSync(partial, workerData.dataDir);
}
const options = { postgresqlconf: workerData.postgresqlconf };
if (workerData.loadDataDir) options.loadDataDir = new Blob([workerData.loadDataDir]);
const pg = workerData.dataDir ? new PGlite(workerData.dataDir, options) : new PGlite(options);
pg.onNotification((channel, payload) => parentPort.postMessage({ notification: { channel, payload } }));
const methods = {
  ready: () => pg.waitReady.then(() => null),
  execProtocolStream: (message) => pg.execProtocolStream(message, { syncToFs: false }),
  syncToFs: () => pg.syncToFs(),
  close: () => pg.close(),
};
parentPort.on('message', async ({ id, method, args }) => {
  try {
    parentPort.postMessage({ id, result: await methods[method](...args) });
  } catch (error) {
    const fields = {};
    for (const key of Object.keys(error)) if (typeof error[key] !== 'function') fields[key] = error[key];
    parentPort.postMessage({ id, error: { message: String(error && error.message), fields } });
  }
});
`;

export interface PgliteThreadOptions {
  /** Data folder (absent: in memory). */
  dataDir?: string | undefined;
  /** A data-dir image to start an empty store from. */
  loadDataDir?: Blob | undefined;
  /** A closed store to copy into the new `dataDir` first (the thread copies it). */
  templateDir?: string | undefined;
  /** postgresql.conf lines, as PGlite's own option. */
  postgresqlconf?: string[] | undefined;
}

/** Opens PGlite in a worker thread; resolves once it answers queries. */
export async function openPgliteThread(options: PgliteThreadOptions): Promise<PGlite> {
  const image = options.loadDataDir ? new Uint8Array(await options.loadDataDir.arrayBuffer()) : undefined;
  const client = new PgliteThreadClient({ dataDir: options.dataDir, loadDataDir: image, templateDir: options.templateDir, postgresqlconf: options.postgresqlconf });
  try {
    await client.start();
  } catch (error) {
    await client.close();
    throw error;
  }
  return client as unknown as PGlite;
}

// Type-only shape of the members BasePGlite leaves abstract; the base class is typed as PGlite.
class PgliteThreadClient extends (BasePGlite as unknown as abstract new () => object) {
  readonly debug = 0;
  readonly #thread: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();
  readonly #queryMutex = new Mutex();
  readonly #transactionMutex = new Mutex();
  #nextId = 0;
  #closed = false;
  #exited: Promise<void>;

  constructor(workerData: {
    dataDir?: string | undefined;
    loadDataDir?: Uint8Array | undefined;
    templateDir?: string | undefined;
    postgresqlconf?: string[] | undefined;
  }) {
    super();
    const pglitePath = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    this.#thread = new Worker(THREAD_SOURCE, { eval: true, workerData: { ...workerData, pglitePath } });
    this.#thread.on('message', (reply: Reply | NotificationEvent) => this.#receive(reply));
    this.#exited = new Promise((resolve) => {
      this.#thread.once('exit', () => {
        for (const { reject } of this.#pending.values()) reject(new Error('the embedded database thread stopped'));
        this.#pending.clear();
        resolve();
      });
      this.#thread.once('error', (error) => {
        for (const { reject } of this.#pending.values()) reject(error);
        this.#pending.clear();
      });
    });
  }

  async start(): Promise<void> {
    await this.#call('ready');
    await (this as unknown as PGlite)._initArrayTypes();
  }

  #call(method: string, ...args: unknown[]): Promise<unknown> {
    if (this.#closed && method !== 'close') return Promise.reject(new Error('PGlite is closed'));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#thread.postMessage({ id, method, args });
    });
  }

  #receive(reply: Reply | NotificationEvent): void {
    if ('notification' in reply) {
      const { channel, payload } = reply.notification;
      for (const listener of this.#listeners.get(channel) ?? []) queueMicrotask(() => listener(payload));
      return;
    }
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (!reply.error) {
      pending.resolve(reply.result);
      return;
    }
    // Rebuilt as PGlite's own class: BasePGlite and our error mapping look for a DatabaseError.
    const { message, fields } = reply.error;
    const error = 'severity' in fields ? new messages.DatabaseError(message, 0, 'error') : new Error(message);
    pending.reject(Object.assign(error, fields));
  }

  execProtocolStream(message: Uint8Array): Promise<unknown> {
    return this.#call('execProtocolStream', message);
  }

  async execProtocol(): Promise<never> {
    throw new Error('execProtocol is not available across the thread');
  }

  async execProtocolRaw(): Promise<never> {
    throw new Error('execProtocolRaw is not available across the thread');
  }

  async execProtocolRawStream(): Promise<never> {
    throw new Error('execProtocolRawStream is not available across the thread');
  }

  async syncToFs(): Promise<void> {
    await this.#call('syncToFs');
  }

  // COPY … TO/FROM blobs are not used by Alertwire.
  async _handleBlob(): Promise<void> {}
  async _getWrittenBlob(): Promise<undefined> {
    return undefined;
  }
  async _cleanupBlob(): Promise<void> {}

  async _checkReady(): Promise<void> {
    if (this.#closed) throw new Error('PGlite is closed');
  }

  _runExclusiveQuery<T>(fn: () => Promise<T>): Promise<T> {
    return this.#queryMutex.runExclusive(fn);
  }

  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.#transactionMutex.runExclusive(fn);
  }

  async listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>> {
    const listeners = this.#listeners.get(channel) ?? new Set();
    this.#listeners.set(channel, listeners);
    listeners.add(callback);
    await (this as unknown as PGlite).exec(`LISTEN ${channel}`);
    return async () => {
      listeners.delete(callback);
      if (listeners.size === 0 && !this.#closed) {
        this.#listeners.delete(channel);
        await (this as unknown as PGlite).exec(`UNLISTEN ${channel}`);
      }
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    // Queries already queued finish first; PGlite then shuts PostgreSQL down cleanly.
    await this._runExclusiveTransaction(() => this._runExclusiveQuery(async () => {}));
    await this.#call('close').catch(() => {});
    this.#closed = true;
    await this.#thread.terminate();
    await this.#exited;
  }
}
