import type { Plugin } from 'graphql-yoga';
import { isMigrated, type Db } from '../db/client.js';

/** GET /ready: 200 when the database answers and has this code's newest migration, else 503. */
export function useReadiness(db: Db): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      const ok = await isMigrated(db).catch(() => false);
      endResponse(
        new fetchAPI.Response(JSON.stringify({ status: ok ? 'ready' : 'unavailable' }), {
          status: ok ? 200 : 503,
          headers: { 'content-type': 'application/json' },
        }),
      );
    },
  };
}
