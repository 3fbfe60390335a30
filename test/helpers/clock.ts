import type { Clock } from '../../src/clock.js';

export interface TestClock extends Clock {
  /** Moves time forward; timers whose moment has come fire now. */
  advance(ms: number): void;
  /** Timers set on this clock that have not fired or been cancelled. */
  readonly pendingTimers: number;
}

interface Timer {
  at: number;
  fn: () => void;
  real?: NodeJS.Timeout;
}

/** Time read through `now`, moved by `move`; timers fire when that time reaches them (and, if `realTimers`, on a real timer too). */
function clockOn(now: () => number, move: (ms: number) => void, realTimers: boolean): TestClock {
  const timers = new Set<Timer>();
  const fire = (timer: Timer) => {
    if (!timers.delete(timer)) return;
    clearTimeout(timer.real);
    timer.fn();
  };
  return {
    now: () => new Date(now()),
    setTimer(fn, ms) {
      const timer: Timer = { at: now() + ms, fn };
      if (realTimers) timer.real = setTimeout(() => fire(timer), Math.max(0, ms));
      timers.add(timer);
      return () => {
        timers.delete(timer);
        clearTimeout(timer.real);
      };
    },
    advance(ms) {
      move(ms);
      for (const timer of [...timers].filter((t) => t.at <= now())) fire(timer);
    },
    get pendingTimers() {
      return timers.size;
    },
  };
}

/** Real time plus an offset the test moves forward: for workers that must also go on by themselves. */
export function movableClock(): TestClock {
  let offset = 0;
  return clockOn(() => Date.now() + offset, (ms) => void (offset += ms), true);
}

/** Time that stands still at `start` until the test advances it; its timers fire only then. */
export function manualClock(start: Date | string = '2026-03-02T15:00:00.000Z'): TestClock {
  let at = new Date(start).getTime();
  return clockOn(() => at, (ms) => void (at += ms), false);
}
