import { setClockTimer, type Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { claimDue, nextWakeAt, releaseLeases, type DeliveryRow } from './delivery-queue.js';

// A safety net for a NOTIFY lost while a connection was re-established; not a polling loop.
const MAX_SLEEP_MS = 60_000;

export interface ClaimerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  owner: string;
  leaseMs: number;
  batchSize: number;
  /** Wait after a failed claim before the next try. */
  retryMs: number;
  /** How many rows the worker can take now; 0 stops claiming until the next wake. */
  wanted(): number;
  /** Rows held that a claim at `now` (epoch ms) could take, and endpoints not to claim for now (saturated or behind an open breaker). */
  exclusions(now: number): { ids: string[]; users: string[] };
  /** Hands claimed rows over. */
  accept(rows: DeliveryRow[]): void;
  /** A time of the worker's own (an endpoint breaker's trial) at which to look again, epoch ms. */
  localWakeAt(): number | null;
}

/**
 * Claims due rows in batches whenever woken (NOTIFY, a freed slot, its own timer), one claim at
 * a time; with nothing to claim it sleeps until the next row is due.
 */
export class Claimer {
  #pumping: Promise<void> | null = null;
  #again = false;
  #stopping = false;
  #cancelTimer: (() => void) | null = null;

  constructor(private readonly deps: ClaimerDeps) {}

  wake(): void {
    if (this.#stopping) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = (async () => {
      do {
        this.#again = false;
        try {
          await this.#pumpOnce();
        } catch (error) {
          this.deps.logger.error('delivery worker could not claim work', { workerId: this.deps.owner, error });
          this.#sleep(this.deps.retryMs);
          this.#again = false;
        }
      } while (this.#again && !this.#stopping);
      this.#pumping = null;
    })();
  }

  /** Stops claiming; resolves once a claim under way has ended. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#cancelTimer?.();
    await this.#pumping;
  }

  async #pumpOnce(): Promise<void> {
    const { db, clock, owner } = this.deps;
    for (;;) {
      const wanted = this.deps.wanted();
      if (this.#stopping || wanted <= 0) return;
      const now = clock.now();
      const { ids, users } = this.deps.exclusions(now.getTime());
      const claimed = await claimDue(db, {
        owner,
        now,
        leaseMs: this.deps.leaseMs,
        limit: Math.min(this.deps.batchSize, wanted),
        exclude: ids,
        excludeUsers: users,
      });
      if (this.#stopping) {
        await releaseLeases(db, owner, claimed.map((r) => r.id));
        return;
      }
      this.deps.accept(claimed);
      if (claimed.length === 0) {
        await this.#scheduleTimer(users);
        return;
      }
    }
  }

  async #scheduleTimer(excludeUsers: string[]): Promise<void> {
    const at = await nextWakeAt(this.deps.db, excludeUsers);
    if (this.#stopping) return;
    const now = this.deps.clock.now().getTime();
    const times = [at?.getTime(), this.deps.localWakeAt() ?? undefined].filter((t): t is number => t !== undefined);
    this.#sleep(times.length > 0 ? Math.min(MAX_SLEEP_MS, Math.max(0, Math.min(...times) - now)) : MAX_SLEEP_MS);
  }

  #sleep(ms: number): void {
    this.#cancelTimer?.();
    this.#cancelTimer = setClockTimer(this.deps.clock, () => this.wake(), ms);
  }
}
