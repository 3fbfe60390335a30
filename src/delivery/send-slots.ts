/** What the scheduler needs of a claimed row: its id and the endpoint (user) it goes to. */
export interface Slotted {
  id: string;
  userId: string;
}

/**
 * The worker's send slots: claimed rows wait here until a slot is free, with two caps — all
 * sends in flight, and sends in flight per endpoint — so one endpoint whose receiver hangs
 * can hold at most `perEndpoint` slots and other endpoints' rows go past it.
 */
export class SendSlots<R extends Slotted> {
  readonly #waiting: R[] = [];
  readonly #inFlight = new Map<string, R>();
  readonly #perEndpoint = new Map<string, number>();

  /** `capOf(endpoint)`: the slots that endpoint may hold now (its breaker can lower it to 0 or 1). */
  constructor(
    readonly total: number,
    private readonly capOf: (endpoint: string) => number,
  ) {}

  /**
   * Takes claimed rows to wait for a slot, at most an endpoint's cap of them beside those in
   * flight; returns the rest, which the caller gives back to the queue. Without this bound the
   * rows of an endpoint down to one (trial) slot would fill the claim-ahead space and stop
   * claims for everyone else until its slow send ended.
   */
  add(rows: R[]): R[] {
    const load = this.#load();
    const extra: R[] = [];
    for (const row of rows) {
      const n = load.get(row.userId) ?? 0;
      if (n >= 2 * this.capOf(row.userId)) extra.push(row);
      else {
        load.set(row.userId, n + 1);
        this.#waiting.push(row);
      }
    }
    return extra;
  }

  #load(): Map<string, number> {
    const load = new Map(this.#perEndpoint);
    for (const row of this.#waiting) load.set(row.userId, (load.get(row.userId) ?? 0) + 1);
    return load;
  }

  /** The oldest waiting row whose endpoint has a free slot, now counted as in flight; undefined when none can go. */
  take(): R | undefined {
    if (this.#inFlight.size >= this.total) return undefined;
    const caps = new Map<string, number>();
    const capOf = (key: string) => caps.get(key) ?? caps.set(key, this.capOf(key)).get(key)!;
    const index = this.#waiting.findIndex((row) => (this.#perEndpoint.get(row.userId) ?? 0) < capOf(row.userId));
    if (index < 0) return undefined;
    const [row] = this.#waiting.splice(index, 1);
    this.#inFlight.set(row!.id, row!);
    this.#perEndpoint.set(row!.userId, (this.#perEndpoint.get(row!.userId) ?? 0) + 1);
    return row;
  }

  /**
   * The send of this row is over: its slot is free. By the row object `take` handed out, not by
   * id: once its result is written, a retry due at once can be claimed again (a new row object,
   * the same id) while the first send's task is still finishing, and that task's late free must
   * not free the retry's slot.
   */
  free(row: R): void {
    if (this.#inFlight.get(row.id) !== row) return;
    this.#inFlight.delete(row.id);
    const left = (this.#perEndpoint.get(row.userId) ?? 1) - 1;
    if (left > 0) this.#perEndpoint.set(row.userId, left);
    else this.#perEndpoint.delete(row.userId);
  }

  /** Removes and returns the waiting rows that match (e.g. of an endpoint whose breaker opened). */
  withdraw(match: (row: R) => boolean = () => true): R[] {
    const out: R[] = [];
    for (let i = this.#waiting.length - 1; i >= 0; i--) {
      if (match(this.#waiting[i]!)) out.unshift(...this.#waiting.splice(i, 1));
    }
    return out;
  }

  /**
   * Of these endpoints, those with at least their slot share in flight or waiting already:
   * claiming more of theirs gains nothing and would crowd out other endpoints' rows.
   */
  saturated(candidates: Iterable<string> = []): Set<string> {
    const load = this.#load();
    for (const key of candidates) if (!load.has(key)) load.set(key, 0);
    return new Set([...load].filter(([key, n]) => n >= this.capOf(key)).map(([key]) => key));
  }

  /** Free slots plus the rows to claim ahead of them, minus those already waiting. */
  wanted(prefetch: number): number {
    return this.total - this.#inFlight.size + prefetch - this.#waiting.length;
  }

  /** Rows in flight and waiting. */
  get held(): R[] {
    return [...this.#inFlight.values(), ...this.#waiting];
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }

  get waiting(): number {
    return this.#waiting.length;
  }
}
