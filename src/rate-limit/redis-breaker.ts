import { setClockTimer, type Clock } from '../clock.js';

export interface RedisBreakerOptions {
  clock: Clock;
  /** A cheap round trip (PING) that rejects when Redis does not answer in time. */
  probe: () => Promise<unknown>;
  probeEveryMs: number;
  onOpen: (reason: string) => void;
  onClose: () => void;
}

/**
 * Open while Redis is known not to answer: callers use memory instead of waiting. A stalled
 * Redis (SIGSTOP, a blackholed network) never errors its connection, so a command timeout trips
 * the breaker as well as a connection error; a probe closes it again once Redis answers.
 */
export class RedisBreaker {
  #open = false;
  #cancelProbe: (() => void) | null = null;
  #closed = false;

  constructor(private readonly options: RedisBreakerOptions) {}

  get isOpen(): boolean {
    return this.#open;
  }

  trip(reason: string): void {
    if (this.#open || this.#closed) return;
    this.#open = true;
    this.options.onOpen(reason);
    this.#scheduleProbe();
  }

  /** Redis answered (a probe, or the connection became ready again). */
  reset(): void {
    this.#cancelProbe?.();
    this.#cancelProbe = null;
    if (!this.#open) return;
    this.#open = false;
    this.options.onClose();
  }

  dispose(): void {
    this.#closed = true;
    this.#cancelProbe?.();
    this.#cancelProbe = null;
  }

  #scheduleProbe(): void {
    this.#cancelProbe?.();
    this.#cancelProbe = setClockTimer(
      this.options.clock,
      () => {
        this.#cancelProbe = null;
        if (!this.#open || this.#closed) return;
        this.options.probe().then(
          () => this.reset(),
          () => this.#open && !this.#closed && this.#scheduleProbe(),
        );
      },
      this.options.probeEveryMs,
    );
  }
}
