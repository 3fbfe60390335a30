import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

const API_KEY_PREFIX = 'aw_';

/** 32 random bytes (256 bits) behind a recognisable prefix, so leaked keys are easy to scan for. */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

// Every request with a key hashes it: the one-shot hash skips the Hash object and its stream setup.
export function hashApiKey(key: string): string {
  return hash('sha256', key, 'hex');
}

/** The key from `X-API-Key` or `Authorization: Bearer`, or null. */
export function readApiKey(headers: Headers): string | null {
  const direct = headers.get('x-api-key')?.trim();
  if (direct) return direct;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.get('authorization') ?? '');
  return match?.[1] ?? null;
}

/** Compares two strings in constant time (over their hashes, so lengths leak nothing either). */
export function timingSafeEqualText(a: string, b: string): boolean {
  return matchesSecret(b)(a);
}

/** timingSafeEqualText against one fixed secret, whose digest is computed once, not per call. */
export function matchesSecret(secret: string): (candidate: string) => boolean {
  const expected = hash('sha256', secret, 'buffer');
  return (candidate) => timingSafeEqual(hash('sha256', candidate, 'buffer'), expected);
}
