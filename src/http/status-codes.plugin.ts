import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { DATABASE_RETRY_AFTER_SECONDS } from '../db/unavailable.js';
import type { RequestLedger } from '../rate-limit/request-ledger.js';

const STATUS_BY_CODE: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429, SERVICE_UNAVAILABLE: 503 };

type HttpExtensions = { status?: number; headers?: Record<string, string> };
type Result = ExecutionResult & { extensions?: Record<string, unknown> };

/**
 * GraphQL answers 200 with errors; a request of which no root field could run gets the HTTP
 * status of its one cause instead (401 without a valid key, 429 over budget and 503 while the
 * database is unreachable, both with Retry-After),
 * so plain HTTP clients see it. "Could run" comes from the request's root-field ledger, not from
 * `data`: a null from one failed non-null field must not hide that its siblings ran.
 */
export function useStatusCodes(): Plugin {
  const withStatus = (result: Result, rateLimit: RequestLedger | undefined): Result | undefined => {
    const codes = rateLimit?.failuresWhenNothingRan;
    if (!codes) return undefined;
    const statuses = new Set(codes.map((code) => STATUS_BY_CODE[code]));
    const [status] = statuses;
    if (statuses.size !== 1 || status === undefined) return undefined;
    const http = (result.extensions?.http ?? {}) as HttpExtensions;
    const retryAfter = status === 429 ? rateLimit!.retryAfter : status === 503 ? DATABASE_RETRY_AFTER_SECONDS : null;
    const headers = retryAfter === null ? http.headers : { ...http.headers, 'Retry-After': String(retryAfter) };
    return { ...result, extensions: { ...result.extensions, http: { ...http, status, headers } } };
  };
  // Queries and mutations end in onExecuteDone, subscriptions in onSubscribeResult: same rule.
  const applyTo =
    (contextValue: unknown) =>
    ({ result, setResult }: { result: unknown; setResult: (result: Result) => void }) => {
      if (isAsyncIterable(result)) return;
      const next = withStatus(result as Result, (contextValue as { rateLimit?: RequestLedger }).rateLimit);
      if (next) setResult(next);
    };

  return {
    onExecute: ({ args }) => ({ onExecuteDone: applyTo(args.contextValue) }),
    onSubscribe: ({ args }) => ({ onSubscribeResult: applyTo(args.contextValue) }),
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The result without `extensions.http` (the status and headers set here for yoga's HTTP answer):
 * not for clients, and transports other than yoga's own (multipart subscriptions, graphql-ws)
 * would send it as it is.
 */
export function withoutHttpExtension(result: ExecutionResult): ExecutionResult {
  if (!result.extensions || !('http' in result.extensions)) return result;
  const { http: _http, ...extensions } = result.extensions;
  return { ...result, extensions: Object.keys(extensions).length ? extensions : undefined };
}
