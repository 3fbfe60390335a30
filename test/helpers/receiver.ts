import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the request arrived. */
  at: number;
}

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Answer only after this many ms. */
  delayMs?: number;
  /** Answer only once this settles (the test holds the request until it lets go). */
  until?: Promise<unknown>;
}

/**
 * How long a wait for an explicit signal (a request arriving, an assertion coming true) may take
 * before it counts as a hang. It never decides a passing outcome, only how soon a broken one is
 * reported, so it is generous: on a 2-core machine shared with other work a file runs several
 * times slower than on a quiet one (vitest.config.ts gives tests twice this).
 */
export const HANG_MS = 60_000;

export type ReplyFn = (request: ReceivedRequest, index: number) => Reply;

export interface Receiver {
  /** `origin` + `/hook`. */
  url: string;
  /** http://host:port, for a test that serves paths of its own (a quote provider). */
  origin: string;
  port: number;
  requests: ReceivedRequest[];
  /** Resolves once `count` requests have arrived; rejects after `timeoutMs` (default HANG_MS). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** A real HTTP receiver on 127.0.0.1 that records every request and answers as told. */
export async function createReceiver(reply: ReplyFn = () => ({ status: 200 }), host = '127.0.0.1'): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      const index = requests.push(request) - 1;
      for (const w of waiters.filter((w) => requests.length >= w.count)) w.resolve();
      const answer = reply(request, index);
      const send = () => {
        res.writeHead(answer.status ?? 200, answer.headers);
        res.end(answer.body ?? 'ok');
      };
      if (answer.until) {
        void answer.until.finally(() => {
          if (!res.writableEnded && !res.destroyed) send();
        });
      } else if (answer.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, answer.delayMs);
        timers.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: `${origin}/hook`,
    origin,
    port,
    requests,
    waitFor(count, timeoutMs = HANG_MS) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} requests, got ${requests.length} within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({ count, resolve: () => (clearTimeout(timer), resolve(requests)) });
      });
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TcpReceiver {
  url: string;
  close(): Promise<void>;
}

/**
 * A receiver below HTTP, for answers an HTTP server cannot give (a banner, a dripped or broken
 * body): `onRequest` gets the socket once the request's first bytes are in and writes raw bytes.
 */
export async function createTcpReceiver(onRequest: (socket: Socket) => void): Promise<TcpReceiver> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', () => onRequest(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Retries an assertion every few ms until it passes or `timeoutMs` (default HANG_MS) is over. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = HANG_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
