import type { AddressInfo } from 'node:net';
import { createHttpServer, type HttpServer } from '../../src/http/server.js';
import type { TestApp } from './test-app.js';

export interface LiveServer {
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  http: HttpServer;
  close(): Promise<void>;
}

/** The test app on a real port, served as main.ts serves it (HTTP and graphql-ws). */
export async function serve(t: TestApp): Promise<LiveServer> {
  const http = createHttpServer(t.app);
  await http.listen(0, '127.0.0.1');
  const { port } = http.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    http,
    close: () => http.close(1000),
  };
}
