import type { GraphQLResolveInfo } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/env.js';
import { createLogger } from '../src/logger.js';
import { createRateLimiter, type RateLimiter } from '../src/rate-limit/rate-limiter.js';
import { RequestLedger } from '../src/rate-limit/request-ledger.js';

// A fixed moment: the window never slides under these tests, however slow the machine.
const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
const viewer = { viewer: { id: 'u1' }, isAdmin: false, clientAddress: '203.0.113.7' };
const call = (fieldName: string, context: object = viewer) => ({ args: {}, context, info: { fieldName } as GraphQLResolveInfo });

let limiter: RateLimiter;
afterEach(() => limiter?.close());
const ledgerWith = (fieldBudgets: Record<string, { max: number; windowMs: number }>) => {
  limiter = createRateLimiter({ config: parseEnv({ NODE_ENV: 'test' }), clock, logger: createLogger('silent'), options: { fieldBudgets } });
  return () => new RequestLedger(limiter);
};

describe('a request ledger', () => {
  it('sends the headers of its most constrained field and the longest Retry-After of its refusals', async () => {
    const newLedger = ledgerWith({ viewer: { max: 3, windowMs: 60_000 }, webhook: { max: 1, windowMs: 10_000 } });
    await newLedger().charge(call('webhook'));
    const ledger = newLedger();
    await ledger.charge(call('viewer'));
    expect(ledger.headers).toEqual({ 'X-RateLimit-Limit': '3', 'X-RateLimit-Remaining': '2', 'X-RateLimit-Reset': '60' });
    await expect(ledger.charge(call('webhook'))).rejects.toMatchObject({
      message: 'Too many webhook calls: the budget is 1 per 10 seconds; retry in 10 s',
      extensions: { code: 'RATE_LIMITED', retryAfter: 10 },
    });
    expect(ledger.headers).toEqual({ 'X-RateLimit-Limit': '1', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '10' });
    expect(ledger.retryAfter).toBe(10);
  });

  it('reports failure codes only when no root field ran', async () => {
    const newLedger = ledgerWith({ viewer: { max: 1, windowMs: 60_000 } });
    const ledger = newLedger();
    expect(ledger.failuresWhenNothingRan).toBeNull();
    await ledger.charge(call('viewer'));
    await ledger.charge(call('webhook'));
    ledger.fieldFailed({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    await expect(ledger.charge(call('viewer'))).rejects.toThrow();
    expect(ledger.failuresWhenNothingRan).toEqual(['SERVICE_UNAVAILABLE', 'RATE_LIMITED']);
    ledger.fieldSucceeded();
    expect(ledger.failuresWhenNothingRan).toBeNull();
  });

  it('charges a public field per client address, whoever calls it', async () => {
    const newLedger = ledgerWith({ register: { max: 1, windowMs: 60_000 } });
    await newLedger().charge(call('register', viewer));
    const other = { ...viewer, viewer: { id: 'u2' } };
    await expect(newLedger().charge(call('register', other))).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    await newLedger().charge(call('register', { ...other, clientAddress: '203.0.113.8' }));
  });
});
