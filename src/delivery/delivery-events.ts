import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database, Db } from '../db/client.js';
import type { webhookDeliveries } from '../db/tables.js';

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Workers wake on this when a delivery becomes due. */
export const DELIVERY_DUE_CHANNEL = 'alertwire_delivery_due';
/** Every status or attempt change of a delivery, from any process. */
export const DELIVERY_CHANGED_CHANNEL = 'alertwire_delivery_changed';

const date = z.iso.datetime().transform((s) => new Date(s));

// NOTIFY payloads are limited to 8000 bytes: the change carries the row without its body.
const DeliveryChangeSchema = z.object({
  id: z.string(),
  userId: z.string(),
  event: z.string(),
  status: z.string(),
  url: z.string(),
  payloadSummary: z.string(),
  httpStatus: z.number().nullable(),
  attempts: z.number(),
  maxAttempts: z.number(),
  failureReason: z.string().nullable(),
  failureKind: z.string().nullable(),
  nextAttemptAt: date.nullable(),
  createdAt: date,
  completedAt: date.nullable(),
});

export type DeliveryChange = z.output<typeof DeliveryChangeSchema>;

export function toChange(row: DeliveryRow): DeliveryChange {
  const { body: _body, leaseOwner: _owner, leaseUntil: _until, seq: _seq, dedupeKey: _key, ...change } = row;
  return change;
}

/** Publishes inside the caller's transaction, so listeners hear of changes only once they are committed. */
export async function notifyChanged(tx: Db, rows: DeliveryRow[]): Promise<void> {
  if (rows.length === 0) return;
  const payloads = sql.join(
    rows.map((row) => sql`(${JSON.stringify(toChange(row))})`),
    sql`, `,
  );
  await tx.execute(sql`select pg_notify(${DELIVERY_CHANGED_CHANNEL}, v.payload) from (values ${payloads}) as v(payload)`);
}

export async function notifyDue(tx: Db): Promise<void> {
  await tx.execute(sql`select pg_notify(${DELIVERY_DUE_CHANNEL}, '')`);
}

export interface DeliveryEventHub {
  /** Changes of one user's deliveries, from the moment this resolves. */
  subscribe(userId: string): Promise<AsyncIterableIterator<DeliveryChange>>;
  close(): Promise<void>;
}

/** One LISTEN per process, fanned out in memory to the subscribers of each user. */
export function createDeliveryEventHub(database: Pick<Database, 'listen'>): DeliveryEventHub {
  const listeners = new Map<string, Set<(change: DeliveryChange) => void>>();
  let listening: Promise<() => Promise<void>> | null = null;

  const onPayload = (payload: string) => {
    let change: DeliveryChange;
    try {
      change = DeliveryChangeSchema.parse(JSON.parse(payload));
    } catch {
      return;
    }
    for (const listener of listeners.get(change.userId) ?? []) listener(change);
  };

  return {
    async subscribe(userId) {
      listening ??= database.listen(DELIVERY_CHANGED_CHANNEL, onPayload).catch((error: unknown) => {
        listening = null; // let the next subscriber try again
        throw error;
      });
      await listening;
      const queue: DeliveryChange[] = [];
      let wake: (() => void) | null = null;
      let done = false;
      const listener = (change: DeliveryChange) => {
        queue.push(change);
        wake?.();
      };
      const set = listeners.get(userId) ?? new Set();
      set.add(listener);
      listeners.set(userId, set);
      const stop = () => {
        done = true;
        set.delete(listener);
        if (set.size === 0) listeners.delete(userId);
        wake?.();
      };
      const iterator: AsyncIterableIterator<DeliveryChange> = {
        async next() {
          while (!done && queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
          if (queue.length > 0) return { value: queue.shift()!, done: false };
          return { value: undefined, done: true };
        },
        async return() {
          stop();
          return { value: undefined, done: true };
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
      };
      return iterator;
    },
    async close() {
      listeners.clear();
      const unlisten = await listening?.catch(() => null);
      listening = null;
      await unlisten?.().catch(() => {});
    },
  };
}
