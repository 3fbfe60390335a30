import type { AttemptOutcome } from './http-sender.js';

export interface EndpointBreakerConfig {
  /** Consecutive timed-out attempts that open an endpoint's breaker. */
  failures: number;
  /** How long an open breaker keeps the endpoint's deliveries waiting before one trial send. */
  cooldownMs: number;
}

interface State {
  timeouts: number;
  /** Set while open (before it) and half-open (after it, until the trial send's outcome). */
  openUntil: number | null;
}

/**
 * A breaker per endpoint for receivers that keep timing out: each such attempt holds a send slot
 * for the whole timeout, so after a few in a row the endpoint gets no slot (its deliveries wait,
 * unclaimed, in the queue) for a cooldown; then one slot for a trial send, whose outcome closes
 * or re-opens it. Other failures (a quick 500, a refused connection) cost no slot time and are
 * left to the retry policy.
 */
export class EndpointBreakers {
  readonly #states = new Map<string, State>();

  constructor(readonly config: EndpointBreakerConfig) {}

  /** Records an attempt's outcome; true when this opened (or re-opened) the endpoint's breaker. */
  record(key: string, outcome: Pick<AttemptOutcome, 'failureKind'>, now: number): boolean {
    if (outcome.failureKind !== 'TIMEOUT') {
      this.#states.delete(key);
      return false;
    }
    const state = this.#states.get(key) ?? { timeouts: 0, openUntil: null };
    state.timeouts++;
    this.#states.set(key, state);
    const halfOpen = state.openUntil !== null && now >= state.openUntil;
    if (state.openUntil === null ? state.timeouts < this.config.failures : !halfOpen) return false;
    state.openUntil = now + this.config.cooldownMs;
    return true;
  }

  /** The send slots the endpoint may use now: none while open, one trial once the cooldown is over. */
  limit(key: string, now: number, normal: number): number {
    const openUntil = this.#states.get(key)?.openUntil ?? null;
    if (openUntil === null) return normal;
    return now < openUntil ? 0 : 1;
  }

  /** Endpoints that get no slot now. */
  openKeys(now: number): string[] {
    return [...this.#states].filter(([, s]) => s.openUntil !== null && now < s.openUntil).map(([key]) => key);
  }

  /** When the next open breaker's cooldown ends; null when none is open. */
  nextTrialAt(now: number): number | null {
    let next: number | null = null;
    for (const { openUntil } of this.#states.values()) {
      if (openUntil !== null && openUntil > now && (next === null || openUntil < next)) next = openUntil;
    }
    return next;
  }
}
