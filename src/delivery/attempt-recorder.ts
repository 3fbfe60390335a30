import type { Db } from '../db/client.js';
import { recordAttempts, type AttemptRecord, type DeliveryRow } from './delivery-queue.js';

export interface AttemptRecorder {
  /** Resolves to the delivery as recorded, or null when the worker no longer held it. */
  record(attempt: AttemptRecord): Promise<DeliveryRow | null>;
  /** How many results wait to be written. */
  readonly backlog: number;
}

/**
 * Group commit: results that finish while a write is in progress go together into the next
 * one, so a busy worker writes many attempts per statement instead of one round trip each.
 */
export function createAttemptRecorder(db: Db, maxParallelWrites = 1): AttemptRecorder {
  const waiting: { attempt: AttemptRecord; resolve: (row: DeliveryRow | null) => void; reject: (error: unknown) => void }[] = [];
  let writes = 0;
  let backlog = 0;

  function flush(): void {
    if (writes >= maxParallelWrites || waiting.length === 0) return;
    writes++;
    const batch = waiting.splice(0);
    recordAttempts(
      db,
      batch.map((b) => b.attempt),
    )
      .then(
        (rows) => batch.forEach((b, i) => b.resolve(rows[i]!)),
        (error: unknown) => batch.forEach((b) => b.reject(error)),
      )
      .finally(() => {
        writes--;
        backlog -= batch.length;
        flush();
      });
  }

  return {
    record(attempt) {
      backlog++;
      return new Promise((resolve, reject) => {
        waiting.push({ attempt, resolve, reject });
        flush();
      });
    },
    get backlog() {
      return backlog;
    },
  };
}
