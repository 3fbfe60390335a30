import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { recordAttempts, renewLeases, type AttemptRecord, type DeliveryRow } from './delivery-queue.js';
import { createGroupCommit } from './group-commit.js';
import type { AttemptOutcome } from './http-sender.js';

export interface AttemptRecorderConfig {
  owner: string;
  leaseMs: number;
  retryBaseMs: number;
  retryAfterMaxMs: number;
}

/**
 * The two writes around a send, by group commit (one statement for all that are due together):
 * the lease re-check before a send, and the attempt's result after it.
 */
export class AttemptRecorder {
  readonly #unrecorded = new Set<string>();
  readonly #leases;
  readonly #results;

  constructor(
    db: Db,
    clock: Clock,
    private readonly config: AttemptRecorderConfig,
  ) {
    this.#leases = createGroupCommit((rows: DeliveryRow[]) =>
      renewLeases(db, { rows, owner: config.owner, now: clock.now(), leaseMs: config.leaseMs }),
    );
    this.#results = createGroupCommit((records: AttemptRecord[]) => recordAttempts(db, records));
  }

  /** The row with a renewed lease, or null when this worker no longer holds it (it must not be sent). */
  renew(row: DeliveryRow): Promise<DeliveryRow | null> {
    return this.#leases.submit(row);
  }

  /** Writes the attempt; resolves to the delivery after it, or null when the row changed meanwhile. */
  async record(row: DeliveryRow, url: string, outcome: AttemptOutcome): Promise<DeliveryRow | null> {
    this.#unrecorded.add(row.id);
    try {
      // Waits and completedAt count from the end of the attempt, not from when it is written.
      const ended = new Date(outcome.startedAt.getTime() + outcome.durationMs);
      const { owner, retryBaseMs, retryAfterMaxMs } = this.config;
      return await this.#results.submit({ row, owner, url, outcome, now: ended, retryBaseMs, retryAfterMaxMs });
    } finally {
      this.#unrecorded.delete(row.id);
    }
  }

  /** Results waiting to be written or being written. */
  get backlog(): number {
    return this.#results.backlog;
  }

  /** Rows sent whose result is not written yet: they must not be claimed again meanwhile. */
  get unrecordedIds(): string[] {
    return [...this.#unrecorded];
  }
}
