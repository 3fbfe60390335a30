import type { CORSOptions } from 'graphql-yoga';
import { RATE_LIMIT_HEADERS } from '../rate-limit/request-ledger.js';

/**
 * CORS from `CORS_ORIGINS`. Alertwire's credentials are API keys sent in headers, never cookies,
 * so no answer allows credentials: yoga's default would echo any Origin *with*
 * `Access-Control-Allow-Credentials: true`.
 */
export function corsOptions(origins: '*' | 'none' | string[]): CORSOptions {
  if (origins === 'none') return false;
  return {
    origin: origins === '*' ? '*' : origins,
    credentials: false,
    exposedHeaders: [...RATE_LIMIT_HEADERS, 'X-Request-Id'],
    maxAge: 600,
  };
}
