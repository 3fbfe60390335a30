import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

describe('structured log', () => {
  it('writes one JSON line per entry, at or above its level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', (l) => lines.push(l));
    logger.info('hidden');
    logger.warn('shown', { deliveryId: 'd1' });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', msg: 'shown', deliveryId: 'd1' });
  });

  it('writes the fields of a child logger (a request id) on each of its lines', () => {
    const lines: string[] = [];
    const request = createLogger('info', (l) => lines.push(l)).child({ requestId: 'r-1' });
    request.info('first');
    request.child({ userId: 'u-1' }).error('second', { alertId: 'a-1' });
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { level: 'info', msg: 'first', requestId: 'r-1' },
      { level: 'error', msg: 'second', requestId: 'r-1', userId: 'u-1', alertId: 'a-1' },
    ]);
  });

  it("keeps a database error's SQL and cause chain but never its bound parameters", () => {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
      code: '23505',
    });
    // The shape of drizzle's DrizzleQueryError: the parameters follow the SQL in the message.
    const queryError = new Error(
      'Failed query: insert into "webhooks" ("url", "secret_ciphertext") values ($1, $2)\nparams: https://hooks.slack.com/services/T0/B0/SECRETPATH,c2VhbGVk',
      { cause: driverError },
    );
    const lines: string[] = [];
    createLogger('error', (l) => lines.push(l)).error('unexpected error', { error: queryError });
    const entry = JSON.parse(lines[0]!);
    expect(lines[0]).not.toContain('SECRETPATH');
    expect(entry.error.message).toBe('Failed query: insert into "webhooks" ("url", "secret_ciphertext") values ($1, $2)\nparams: [redacted]');
    expect(entry.error.stack).not.toContain('SECRETPATH');
    expect(entry.error.cause).toEqual({
      name: 'Error',
      message: 'duplicate key value violates unique constraint "users_email_key"',
      code: '23505',
    });
  });
});
