/** The one source of time. Tests pass a controllable clock; every wait reads it. */
export interface Clock {
  now(): Date;
  /** Calls fn once `ms` of this clock's time have passed; returns a cancel function. Default: a real timer. */
  setTimer?(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = { now: () => new Date() };

/** A timer on the clock's own time, falling back to a real timer for clocks that only tell time. */
export function setClockTimer(clock: Clock, fn: () => void, ms: number): () => void {
  if (clock.setTimer) return clock.setTimer(fn, ms);
  const timer = setTimeout(fn, Math.max(0, ms));
  timer.unref?.();
  return () => clearTimeout(timer);
}
