import { GraphQLError } from 'graphql';

/** What clients are told to wait before trying again while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

// Node's socket errors, postgres.js's own, our client-side deadline (deadline.ts), and
// PostgreSQL's SQLSTATEs for "not now": class 08 (connection exception), admin/crash shutdown,
// cannot connect now, and statement_timeout.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'DATABASE_DEADLINE',
  '57P01',
  '57P02',
  '57P03',
  '57014',
]);

/** True when the error (or one it wraps, e.g. drizzle's query error) says the database cannot be reached now. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = error; e && typeof e === 'object' && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) if (isDatabaseUnavailable(inner)) return true;
  }
  return false;
}

/** SERVICE_UNAVAILABLE, with the HTTP status yoga uses when this error ends the request. */
export function serviceUnavailable(): GraphQLError {
  return new GraphQLError('The service is temporarily unavailable (its database cannot be reached); try again shortly', {
    extensions: {
      code: 'SERVICE_UNAVAILABLE',
      retryAfter: DATABASE_RETRY_AFTER_SECONDS,
      http: { status: 503, headers: { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) } },
    },
  });
}
