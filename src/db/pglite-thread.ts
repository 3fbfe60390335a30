import type { Worker } from 'node:worker_threads';
import { messages, Mutex, type PGlite } from '@electric-sql/pglite';
import { PGliteWorker } from '@electric-sql/pglite/worker';
import type { PgliteThread } from './pglite-thread-start.js';

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

/** PGlite's client for a thread from spawnPgliteThread (pglite-thread-start.ts), opened; resolves once it answers queries. */
export async function openPgliteThread(thread: PgliteThread): Promise<PGlite> {
  const client = new PgliteThreadClient(thread);
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
  /** Set once the thread has stopped: what it stopped with, for every call after that. */
  #stopped: Error | undefined;
  readonly #exited: Promise<void>;

  constructor(thread: PgliteThread) {
    super();
    this.#thread = thread.worker;
    this.#thread.on('message', (reply: Reply | NotificationEvent) => this.#receive(reply));
    this.#exited = thread.stopped.then((error) => {
      this.#stopped = error ?? new Error('the embedded database thread stopped');
      for (const { reject } of this.#pending.values()) reject(this.#stopped);
      this.#pending.clear();
    });
  }

  async start(): Promise<void> {
    await this.#call('ready');
    await (this as unknown as PGlite)._initArrayTypes();
  }

  #call(method: string, ...args: unknown[]): Promise<unknown> {
    if (this.#closed && method !== 'close') return Promise.reject(new Error('PGlite is closed'));
    if (this.#stopped) return Promise.reject(this.#stopped);
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
