import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';
import { metricsResponse } from './metrics.plugin.js';

/** /metrics on a port of its own (METRICS_PORT), e.g. reachable only from the monitoring network. */
export async function startMetricsServer(metrics: Metrics, options: { port: number; host: string; token?: string | undefined }): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const request = new Request(`http://metrics${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } });
    void metricsResponse(metrics, request, options.token).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(await response.text());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return server;
}
