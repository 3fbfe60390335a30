import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { App } from '../app.js';
import { whenStreaming } from './streaming-responses.js';
import { attachWebSocket, type WebSocketEndpoint } from './websocket.js';

export interface HttpServer {
  server: Server;
  listen(port: number, host: string): Promise<void>;
  /**
   * Stops accepting, closes subscription streams (SSE and WebSocket, which never end by
   * themselves), and resolves once every other request in flight has been answered, or after
   * `graceMs`, when the remaining connections are cut.
   */
  close(graceMs?: number): Promise<void>;
}

/** The app on a node HTTP server, with graphql-ws on the same port and path. */
export function createHttpServer(app: App): HttpServer {
  const server = createServer(app);
  // Attached once listening: ws re-emits the server's errors (a taken port) as its own.
  let websocket: WebSocketEndpoint | undefined;
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  // Subscription streams end at close, also those whose request was still on its way to one.
  const endStream = (res: ServerResponse) => whenStreaming(res, () => res.destroy());
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    res.on('close', () => inFlight.delete(res));
    if (closing) endStream(res); // a kept-alive connection's next request
  });

  return {
    server,
    listen: (port, host) =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          websocket = attachWebSocket(server, app);
          resolve();
        });
      }),
    async close(graceMs = 8000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await websocket?.close();
      closing = true;
      for (const res of inFlight) endStream(res);
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}
