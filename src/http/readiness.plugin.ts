import { sql } from 'drizzle-orm';
import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db/client.js';

/** GET /ready: 200 when the database answers (migrations run before the app is built), else 503. */
export function useReadiness(db: Db): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      let ok = false;
      try {
        await db.execute(sql`select 1 from webhook_deliveries limit 1`);
        ok = true;
      } catch {
        ok = false;
      }
      endResponse(
        new fetchAPI.Response(JSON.stringify({ status: ok ? 'ready' : 'unavailable' }), {
          status: ok ? 200 : 503,
          headers: { 'content-type': 'application/json' },
        }),
      );
    },
  };
}
