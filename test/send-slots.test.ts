import { describe, expect, it } from 'vitest';
import { EndpointBreakers } from '../src/delivery/endpoint-breaker.js';
import { parseRetryAfter } from '../src/delivery/retry-after.js';
import { retryDelayMs } from '../src/delivery/delivery-queue.js';
import { SendSlots } from '../src/delivery/send-slots.js';

const rows = (userId: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `${userId}-${from + i}`, userId }));
const takeAll = <R>(slots: SendSlots<R & { id: string; userId: string }>) => {
  const out = [];
  for (let row = slots.take(); row; row = slots.take()) out.push(row);
  return out;
};

describe('send slots', () => {
  it('give one endpoint at most its cap, and let later rows of other endpoints go past it', () => {
    const slots = new SendSlots(6, () => 2);
    expect(slots.add([...rows('hanging', 10), ...rows('healthy', 2)])).toHaveLength(6);
    expect(takeAll(slots).map((r) => r.id)).toEqual(['hanging-0', 'hanging-1', 'healthy-0', 'healthy-1']);
    expect(slots.inFlight).toBe(4);
    expect(slots.waiting).toBe(2);
  });

  it('never exceed the total, and free a slot for the next row of that endpoint', () => {
    const slots = new SendSlots(3, () => 4);
    slots.add(rows('a', 5));
    const first = takeAll(slots);
    expect(first).toHaveLength(3);
    slots.free(first[0]!);
    slots.free(first[0]!); // twice changes nothing
    expect(takeAll(slots).map((r) => r.id)).toEqual(['a-3']);
    expect(slots.take()).toBeUndefined();
  });

  it("a late free of a row's first send leaves the slot of its retry, claimed again meanwhile, in flight", () => {
    const slots = new SendSlots(2, () => 1);
    slots.add(rows('a', 1));
    const [first] = takeAll(slots);
    slots.free(first!); // the answer is in: the slot is free before the result is written
    slots.add([{ ...first! }]); // written, due again at once, claimed again: a new row, the same id
    const [retry] = takeAll(slots);
    slots.free(first!); // the first send's task ends
    expect(slots.inFlight).toBe(1);
    slots.add(rows('a', 1, 1));
    expect(slots.take()).toBeUndefined(); // endpoint a still has its one slot in use
    slots.free(retry!);
    expect(slots.take()?.id).toBe('a-1');
  });

  it('report endpoints whose share is full (in flight or waiting), and those with cap 0', () => {
    const caps: Record<string, number> = { open: 0 };
    const slots = new SendSlots(16, (key) => caps[key] ?? 2);
    slots.add([...rows('a', 1), ...rows('b', 3)]);
    expect([...slots.saturated(['open', 'idle'])].sort()).toEqual(['b', 'open']);
    expect(slots.wanted(5)).toBe(16 + 5 - 4);
  });

  it("keep at most an endpoint's cap waiting beside those in flight, and hand back the rest", () => {
    const caps: Record<string, number> = { trial: 1 };
    const slots = new SendSlots(16, (key) => caps[key] ?? 2);
    const extra = slots.add([...rows('trial', 5), ...rows('b', 5)]);
    expect(extra.map((r) => r.id)).toEqual(['trial-2', 'trial-3', 'trial-4', 'b-4']);
    expect(slots.waiting).toBe(6);
    // The claim-ahead space is not filled by rows that cannot go soon.
    expect(slots.wanted(5)).toBe(16 + 5 - 6);
  });

  it('withdraw the waiting rows of one endpoint, keeping the order of the rest', () => {
    const slots = new SendSlots(1, () => 1);
    slots.add([...rows('a', 2), ...rows('b', 2)]);
    expect(slots.take()!.id).toBe('a-0');
    expect(slots.withdraw((r) => r.userId === 'a').map((r) => r.id)).toEqual(['a-1']);
    expect(slots.held.map((r) => r.id)).toEqual(['a-0', 'b-0', 'b-1']);
  });
});

describe('endpoint breakers', () => {
  const timeout = { failureKind: 'TIMEOUT' as const };
  const ok = { failureKind: null };

  it('open after N timeouts in a row: no slot during the cooldown, then one trial', () => {
    const breakers = new EndpointBreakers({ failures: 3, cooldownMs: 1000 });
    expect(breakers.record('a', timeout, 0)).toBe(false);
    expect(breakers.record('a', timeout, 10)).toBe(false);
    expect(breakers.limit('a', 10, 4)).toBe(4);
    expect(breakers.record('a', timeout, 20)).toBe(true);
    expect(breakers.limit('a', 500, 4)).toBe(0);
    expect(breakers.openKeys(500)).toEqual(['a']);
    expect(breakers.nextTrialAt(500)).toBe(1020);
    expect(breakers.limit('a', 1020, 4)).toBe(1);
    expect(breakers.openKeys(1020)).toEqual([]);
  });

  it('re-open on a failed trial, close on a good one', () => {
    const breakers = new EndpointBreakers({ failures: 1, cooldownMs: 100 });
    breakers.record('a', timeout, 0);
    expect(breakers.record('a', timeout, 150)).toBe(true);
    expect(breakers.limit('a', 200, 4)).toBe(0);
    breakers.record('a', ok, 300);
    expect(breakers.limit('a', 300, 4)).toBe(4);
  });

  it('a timeout from a send started before the breaker opened does not extend it', () => {
    const breakers = new EndpointBreakers({ failures: 2, cooldownMs: 100 });
    breakers.record('a', timeout, 0);
    breakers.record('a', timeout, 0);
    expect(breakers.record('a', timeout, 50)).toBe(false);
    expect(breakers.nextTrialAt(60)).toBe(100);
  });

  it('a quick failure (not a timeout) resets the count', () => {
    const breakers = new EndpointBreakers({ failures: 2, cooldownMs: 100 });
    breakers.record('a', timeout, 0);
    breakers.record('a', { failureKind: 'HTTP_ERROR' }, 1);
    expect(breakers.record('a', timeout, 2)).toBe(false);
  });
});

describe('Retry-After', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  it('reads delay-seconds and HTTP dates, and ignores anything else', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:05:00 GMT', now)).toBe(300_000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now)).toBe(0);
    for (const bad of [null, '', '-5', '1.5', 'soon']) expect(parseRetryAfter(bad, now)).toBeNull();
  });

  it('waits the longer of backoff and Retry-After, capped at the maximum', () => {
    expect(retryDelayMs(1, 1000, null, 60_000)).toBe(1000);
    expect(retryDelayMs(1, 1000, 120_000, 600_000)).toBe(120_000);
    expect(retryDelayMs(1, 1000, 120_000, 60_000)).toBe(60_000);
    expect(retryDelayMs(3, 1000, 500, 60_000)).toBe(4000);
  });
});
