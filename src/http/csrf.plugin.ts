import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';

/**
 * Refuses the POSTs a browser sends cross-site without a preflight (forms, text/plain), which
 * could otherwise run mutations such as `register` from a victim's address.
 *
 * GETs pass: they never run mutations (405), and Alertwire has no ambient credentials (no
 * cookies), so a cross-site GET can only run queries as nobody, and its answer is unreadable
 * under CORS. This lets clients that send queries as GET (urql) see UNAUTHENTICATED rather than
 * a CSRF 403 when the key is missing.
 */
export function useCsrfPrevention(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'x-api-key', 'authorization'] });
  return {
    onRequestParse(payload) {
      if (payload.request.method === 'GET') return;
      return csrf.onRequestParse?.(payload);
    },
  };
}
