import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const STATUS_BY_CODE: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429 };

/**
 * GraphQL answers 200 with errors; a request of which no field could run gets the HTTP status
 * of its cause instead (401 without a valid key, 429 over budget), so plain HTTP clients see it.
 */
export function useStatusCodes(): Plugin {
  return {
    onResultProcess({ result }) {
      if (Array.isArray(result) || Symbol.asyncIterator in (result as object)) return;
      const single = result as ExecutionResult & { extensions?: Record<string, unknown> };
      if (single.data != null || !single.errors?.length) return;
      const statuses = new Set(single.errors.map((e) => STATUS_BY_CODE[String(e.extensions?.code)]));
      const [status] = statuses;
      if (statuses.size !== 1 || status === undefined) return;
      const http = (single.extensions?.http ?? {}) as { status?: number; headers?: Record<string, string> };
      single.extensions = { ...single.extensions, http: { ...http, status } };
    },
  };
}
