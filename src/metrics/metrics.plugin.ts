import { sql } from 'drizzle-orm';
import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db/client.js';
import { queryRows } from '../db/rows.js';

const LATENCY_BUCKETS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10_000];

/**
 * GET /metrics in Prometheus text format. Request counts are this process's; delivery figures
 * are read from the database at scrape time, so every process reports the same shared queue.
 */
export function useMetrics(db: Db): Plugin {
  const requests = new Map<string, number>();
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== '/metrics' || request.method !== 'GET') return;
      endResponse(
        new fetchAPI.Response(await render(db, requests), {
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        }),
      );
    },
    onResponse({ request, response }) {
      if (new URL(request.url).pathname === '/metrics') return;
      const key = `${request.method} ${response.status}`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
    },
  };
}

async function render(db: Db, requests: Map<string, number>): Promise<string> {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  metric('alertwire_http_requests_total', 'counter', 'HTTP requests answered by this process.');
  for (const [key, count] of requests) {
    const [method, status] = key.split(' ');
    lines.push(`alertwire_http_requests_total{method="${method}",status="${status}"} ${count}`);
  }

  const byStatus = await queryRows<{ status: string; n: number }>(
    db,
    sql`select status, count(*)::int as n from webhook_deliveries group by status /* metrics */`,
  );
  metric('alertwire_deliveries', 'gauge', 'Webhook deliveries kept in the history, by status.');
  for (const status of ['PENDING', 'DELIVERED', 'FAILED']) {
    lines.push(`alertwire_deliveries{status="${status}"} ${byStatus.find((r) => r.status === status)?.n ?? 0}`);
  }

  const [due] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from webhook_deliveries
        where status = 'PENDING' and next_attempt_at <= now() /* metrics */`,
  );
  metric('alertwire_delivery_queue_due', 'gauge', 'Pending deliveries whose next attempt is due now.');
  lines.push(`alertwire_delivery_queue_due ${due?.n ?? 0}`);

  const buckets = LATENCY_BUCKETS_MS.map(
    (b, i) => sql`count(*) filter (where duration_ms <= ${b})::int as ${sql.raw(`le_${i}`)}`,
  );
  const [latency = {}] = await queryRows(
    db,
    sql`select ${sql.join(buckets, sql`, `)}, count(*)::int as n, coalesce(sum(duration_ms), 0)::bigint as total
        from delivery_attempts /* metrics */`,
  );
  metric('alertwire_delivery_attempt_duration_ms', 'histogram', 'Duration of recorded delivery attempts.');
  LATENCY_BUCKETS_MS.forEach((b, i) =>
    lines.push(`alertwire_delivery_attempt_duration_ms_bucket{le="${b}"} ${Number(latency[`le_${i}`] ?? 0)}`),
  );
  lines.push(`alertwire_delivery_attempt_duration_ms_bucket{le="+Inf"} ${Number(latency.n ?? 0)}`);
  lines.push(`alertwire_delivery_attempt_duration_ms_sum ${Number(latency.total ?? 0)}`);
  lines.push(`alertwire_delivery_attempt_duration_ms_count ${Number(latency.n ?? 0)}`);
  return `${lines.join('\n')}\n`;
}
