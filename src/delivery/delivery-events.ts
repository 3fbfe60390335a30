import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database, Db } from '../db/client.js';
import type { webhookDeliveries } from '../db/tables.js';
import type { Logger } from '../logger.js';
import { createUserChannelHub, type UserChannelHub } from '../db/user-channel-hub.js';

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
  // nullish: a change published by a process from before this column has none.
  messageId: z.string().nullish(),
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

export type DeliveryEventHub = UserChannelHub<DeliveryChange>;

export function createDeliveryEventHub(database: Pick<Database, 'listen'>, logger: Logger): DeliveryEventHub {
  const parse = (payload: string) => {
    const change = DeliveryChangeSchema.parse(JSON.parse(payload));
    return [{ userId: change.userId, event: change }];
  };
  return createUserChannelHub(database, DELIVERY_CHANGED_CHANNEL, parse, logger);
}
