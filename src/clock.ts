/** The one source of time. Tests pass a controllable clock; every wait reads it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
