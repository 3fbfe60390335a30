import type { Plugin } from 'graphql-yoga';
import { refusal } from './request-body.plugin.js';

/**
 * yoga parses the `variables` and `extensions` of a GET request with a bare JSON.parse, so a
 * malformed one surfaced as an internal error; refuse it as the client's mistake instead.
 */
export function useGetParamsCheck(graphqlEndpoint: string): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' || url.pathname !== graphqlEndpoint) return;
      for (const name of ['variables', 'extensions']) {
        const value = url.searchParams.get(name);
        if (value !== null && !isJsonObject(value)) {
          return endResponse(refusal(fetchAPI.Response, 400, `The ${name} parameter must be a JSON object`));
        }
      }
    },
  };
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
