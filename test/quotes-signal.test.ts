import { describe, expect, it } from 'vitest';
import { relativeStrengthIndex, signalFromHistory } from '../src/modules/quotes/signal.js';

/** 15 prices from a start and 14 day-to-day changes. */
const fromChanges = (start: number, changes: number[]) =>
  changes.reduce((prices, change) => {
    prices.push(prices.at(-1)! + change);
    return prices;
  }, [start]);

describe('RSI(14) signal rule (docs/signals.md)', () => {
  it('is null while fewer than 15 prices exist', () => {
    expect(relativeStrengthIndex(Array.from({ length: 14 }, (_, i) => 100 + i))).toBeNull();
    expect(signalFromHistory([])).toBeNull();
  });

  // Gains 1+2+3 = 6 and losses 1+1+2 = 4 on 14 changes (8 flat): RSI = 100·6/(6+4) = 60.
  it('matches a hand-computed value: gains 6, losses 4 → RSI 60, HOLD', () => {
    const prices = fromChanges(50, [1, 0, -1, 2, 0, 0, -1, 3, 0, 0, -2, 0, 0, 0]);
    expect(relativeStrengthIndex(prices)).toBe(60);
    expect(signalFromHistory(prices)).toBe('HOLD');
  });

  it('gains 2, losses 8 → RSI 20, BUY', () => {
    const prices = fromChanges(100, [-2, 1, -2, -2, 0, 1, -2, 0, 0, 0, 0, 0, 0, 0]);
    expect(relativeStrengthIndex(prices)).toBe(20);
    expect(signalFromHistory(prices)).toBe('BUY');
  });

  it('gains 9, losses 1 → RSI 90, SELL', () => {
    const prices = fromChanges(100, [3, 3, -1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(relativeStrengthIndex(prices)).toBe(90);
    expect(signalFromHistory(prices)).toBe('SELL');
  });

  it('is strict at the boundaries: exactly 30 and exactly 70 are HOLD', () => {
    const thirty = fromChanges(100, [3, -7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const seventy = fromChanges(100, [7, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(relativeStrengthIndex(thirty)).toBe(30);
    expect(signalFromHistory(thirty)).toBe('HOLD');
    expect(relativeStrengthIndex(seventy)).toBe(70);
    expect(signalFromHistory(seventy)).toBe('HOLD');
  });

  it('just past the boundaries: 29.x is BUY and 70.x is SELL', () => {
    // Gains 2.9 and losses 7.1 → 29; gains 7.1 and losses 2.9 → 71 (within float rounding).
    expect(signalFromHistory(fromChanges(100, [2.9, -7.1, ...Array(12).fill(0)]))).toBe('BUY');
    expect(signalFromHistory(fromChanges(100, [7.1, -2.9, ...Array(12).fill(0)]))).toBe('SELL');
  });

  it('uses only the newest 15 prices: an older crash does not count', () => {
    const recent = fromChanges(100, Array(14).fill(1));
    expect(signalFromHistory([500, 10, ...recent])).toBe('SELL');
    expect(relativeStrengthIndex([500, 10, ...recent])).toBe(100);
  });

  it('treats a flat history as RSI 50, HOLD', () => {
    expect(relativeStrengthIndex(Array(15).fill(42))).toBe(50);
    expect(signalFromHistory(Array(15).fill(42))).toBe('HOLD');
  });
});
