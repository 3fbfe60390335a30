/** The signal rule; docs/signals.md explains it with a worked example. */
export const SIGNALS = ['BUY', 'SELL', 'HOLD'] as const;
export type Signal = (typeof SIGNALS)[number];

const RSI_PERIOD = 14;
/** Prices needed for one RSI value: a change needs two prices. */
export const SIGNAL_HISTORY_LENGTH = RSI_PERIOD + 1;

/** RSI over the last 14 price changes, as the plain (Cutler) average; null with fewer than 15 prices. */
export function relativeStrengthIndex(pricesOldestFirst: readonly number[]): number | null {
  if (pricesOldestFirst.length < SIGNAL_HISTORY_LENGTH) return null;
  const window = pricesOldestFirst.slice(-SIGNAL_HISTORY_LENGTH);
  let gains = 0;
  let losses = 0;
  for (let i = 1; i < window.length; i++) {
    const change = window[i]! - window[i - 1]!;
    if (change > 0) gains += change;
    else losses -= change;
  }
  if (gains + losses === 0) return 50;
  return (100 * gains) / (gains + losses);
}

export function signalFromHistory(pricesOldestFirst: readonly number[]): Signal | null {
  const rsi = relativeStrengthIndex(pricesOldestFirst);
  if (rsi === null) return null;
  if (rsi < 30) return 'BUY';
  if (rsi > 70) return 'SELL';
  return 'HOLD';
}
