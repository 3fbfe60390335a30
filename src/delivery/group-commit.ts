export interface GroupCommit<I, O> {
  /** Resolves to this item's result once the write that carried it is done. */
  submit(item: I): Promise<O>;
  /** How many items wait to be written or are being written. */
  readonly backlog: number;
}

/**
 * Group commit: items submitted while a write is in progress go together into the next one, so
 * a busy worker writes many rows per statement instead of one round trip (and one commit) each.
 * `write` answers with one result per item, in order.
 */
export function createGroupCommit<I, O>(write: (items: I[]) => Promise<O[]>, maxParallelWrites = 1): GroupCommit<I, O> {
  const waiting: { item: I; resolve: (result: O) => void; reject: (error: unknown) => void }[] = [];
  let writes = 0;
  let backlog = 0;

  function flush(): void {
    if (writes >= maxParallelWrites || waiting.length === 0) return;
    writes++;
    const batch = waiting.splice(0);
    write(batch.map((b) => b.item))
      .then(
        (results) => {
          for (const [i, b] of batch.entries()) b.resolve(results[i]!);
        },
        (error: unknown) => {
          for (const b of batch) b.reject(error);
        },
      )
      .finally(() => {
        writes--;
        backlog -= batch.length;
        flush();
      });
  }

  return {
    submit(item) {
      backlog++;
      return new Promise((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        flush();
      });
    },
    get backlog() {
      return backlog;
    },
  };
}
