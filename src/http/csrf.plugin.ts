import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import { refusal } from './request-body.plugin.js';

const REFUSED = 'Refused as a possible cross-site request: send the operation as JSON, with Content-Type: application/json';

/**
 * Refuses the POSTs a browser sends cross-site without a preflight (forms, text/plain), which
 * could otherwise run mutations such as `register` from a victim's address.
 *
 * GETs pass: they never run mutations (405), and Alertwire has no ambient credentials (no
 * cookies), so a cross-site GET can only run queries as nobody, and its answer is unreadable
 * under CORS. This lets clients that send queries as GET (urql) see UNAUTHENTICATED rather than
 * a CSRF 403 when the key is missing. The refusal is a typed error (BAD_REQUEST) that says what to send.
 */
export function useCsrfPrevention(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'x-api-key', 'authorization'] });
  return {
    onRequestParse(payload) {
      if (payload.request.method === 'GET') return;
      try {
        csrf.onRequestParse?.(payload);
      } catch {
        payload.endResponse(refusal(payload.fetchAPI.Response, 403, REFUSED));
      }
    },
  };
}
