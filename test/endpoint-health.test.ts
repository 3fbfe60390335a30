import { describe, expect, it } from 'vitest';
import type { DeliveryRow } from '../src/delivery/delivery-events.js';
import { healthChanges } from '../src/modules/webhooks/endpoint-health.js';

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
const URL_A = 'http://127.0.0.1:9/a';
const row = (userId: string, status: string, minute: number, httpStatus: number | null = 500, url = URL_A) => ({
  row: { userId, status, httpStatus, completedAt: status === 'PENDING' ? null : at(minute) } as DeliveryRow,
  url,
});

describe('healthChanges: one batch of finished deliveries per user and attempted URL', () => {
  it('counts the failures after the last delivered one, from the first of them', () => {
    expect(
      healthChanges([row('a', 'FAILED', 1), row('a', 'DELIVERED', 2, 200), row('a', 'FAILED', 3), row('a', 'FAILED', 4), row('b', 'FAILED', 5)]),
    ).toEqual([
      { userId: 'a', url: URL_A, reset: true, failures: 2, firstFailureAt: at(3), gone: false },
      { userId: 'b', url: URL_A, reset: false, failures: 1, firstFailureAt: at(5), gone: false },
    ]);
  });

  it('marks a 410 as gone even on an attempt that is still to be retried', () => {
    expect(healthChanges([row('a', 'PENDING', 1, 410)])).toEqual([
      { userId: 'a', url: URL_A, reset: false, failures: 0, firstFailureAt: null, gone: true },
    ]);
  });

  it('keeps attempts to a URL the user has since replaced apart from those to the new one', () => {
    const URL_B = 'http://127.0.0.1:9/b';
    expect(healthChanges([row('a', 'PENDING', 1, 410, URL_A), row('a', 'FAILED', 2, 500, URL_B)])).toEqual([
      { userId: 'a', url: URL_A, reset: false, failures: 0, firstFailureAt: null, gone: true },
      { userId: 'a', url: URL_B, reset: false, failures: 1, firstFailureAt: at(2), gone: false },
    ]);
  });
});
