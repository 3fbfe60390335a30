import type { Clock } from '../../src/clock.js';

export interface MovableClock extends Clock {
  /** Moves time forward; timers whose moment has come fire now. */
  advance(ms: number): void;
}

/** Real time plus an offset the test moves forward; timers fire when the moved time reaches them. */
export function movableClock(): MovableClock {
  let offset = 0;
  const timers = new Set<{ at: number; fn: () => void; real: NodeJS.Timeout }>();
  const now = () => Date.now() + offset;
  return {
    now: () => new Date(now()),
    setTimer(fn, ms) {
      const timer = { at: now() + ms, fn, real: setTimeout(() => timers.delete(timer) && fn(), Math.max(0, ms)) };
      timers.add(timer);
      return () => {
        timers.delete(timer);
        clearTimeout(timer.real);
      };
    },
    advance(ms) {
      offset += ms;
      for (const timer of [...timers].filter((t) => t.at <= now())) {
        timers.delete(timer);
        clearTimeout(timer.real);
        timer.fn();
      }
    },
  };
}
