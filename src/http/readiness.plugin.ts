import type { Plugin } from 'graphql-yoga';
import { isMigrated, type Db } from '../db/client.js';

// A probe must answer before the orchestrator's own timeout, whatever the database does.
const READY_DEADLINE_MS = 800;

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | false> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** GET /ready: 200 when the database answers and has this code's newest migration, else 503. */
export function useReadiness(db: Db): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      const ok = await withDeadline(isMigrated(db), READY_DEADLINE_MS).catch(() => false);
      endResponse(
        new fetchAPI.Response(JSON.stringify({ status: ok ? 'ready' : 'unavailable' }), {
          status: ok ? 200 : 503,
          headers: { 'content-type': 'application/json' },
        }),
      );
    },
  };
}
