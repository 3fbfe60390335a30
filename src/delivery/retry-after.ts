/**
 * The wait a receiver asks for in `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an
 * HTTP-date), in ms from `now`; null when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  const text = value?.trim();
  if (!text) return null;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the HTTP-date forms Date.parse reads; a bare number was handled above.
  const at = /[a-z]/i.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}

/** Statuses whose Retry-After says when a retry can succeed. */
export const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);
