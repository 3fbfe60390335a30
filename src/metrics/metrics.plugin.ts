import type { Plugin } from 'graphql-yoga';
import type { Metrics } from './metrics.js';
import { timingSafeEqualText } from '../modules/users/api-key.js';

export interface MetricsEndpointOptions {
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** False when /metrics is served on its own port (METRICS_PORT) instead. */
  serve: boolean;
}

/** Counts every answered request; serves GET /metrics in Prometheus text format unless it has its own port. */
export function useMetrics(metrics: Metrics, options: MetricsEndpointOptions): Plugin {
  return {
    // Not async: a promise from every request's hook would make yoga await it.
    onRequest({ url, request, endResponse }) {
      if (!options.serve || url.pathname !== '/metrics' || request.method !== 'GET') return;
      return metricsResponse(metrics, request, options.token).then(endResponse);
    },
    onResponse({ request, response }) {
      if (isMetricsPath(request.url)) return;
      metrics.httpRequest(request.method, response.status);
    },
  };
}

// Runs on every response: a look at the path, not a parsed URL.
function isMetricsPath(url: string): boolean {
  const path = url.slice(url.indexOf('/', url.indexOf('//') + 2));
  return path === '/metrics' || path.startsWith('/metrics?') || path.startsWith('/metrics#');
}

/** The /metrics answer, for the yoga plugin and for the separate METRICS_PORT server. */
export async function metricsResponse(metrics: Metrics, request: Request, token: string | undefined): Promise<Response> {
  if (token) {
    const given = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '')?.[1];
    if (!given || !timingSafeEqualText(given, token)) {
      return new Response('Unauthorized\n', { status: 401, headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
    }
  }
  return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
}
