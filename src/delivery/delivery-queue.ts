import { and, asc, desc, eq, inArray, isNotNull, isNull, lte, or, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { preparedPerDb, prepareSql } from '../db/prepared.js';
import { webhookDeliveries } from '../db/tables.js';
import { storedBodyText } from './attempt-details.js';
import { DELIVERY_CHANGED_CHANNEL, notifyChanged, notifyDue, toChange, type DeliveryRow } from './delivery-events.js';
import { DELIVERED, FAILED, PENDING, SKIPPED, type DeliveryStatus } from './delivery-status.js';
import type { AttemptOutcome } from './http-sender.js';

export type { DeliveryRow };

export const WEBHOOK_DELETED_REASON = 'Webhook deleted before delivery';

/** Why a delivery ends SKIPPED: its webhook was disabled (the disable's own reason inside). */
export const webhookDisabledReason = (disabledReason: string | null) =>
  `Not sent: the webhook is disabled (${disabledReason ?? 'no reason given'}); enableWebhook re-activates it`;

// Long texts from receivers or resolvers must not push a change over the NOTIFY payload limit.
const MAX_TEXT = 500;
const clip = (text: string | null) => (text && text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

export interface NewDelivery {
  userId: string;
  url: string;
  event: string;
  body: string;
  summary: string;
  maxAttempts: number;
  now: Date;
  /** History kept per user; older deliveries are pruned in the same transaction. */
  maxDeliveries: number;
  /** Stored with the row so a caller can find what it enqueued before (see latestWithDedupeKey). */
  dedupeKey?: string | null;
  /** A redelivery's message: the id of the first delivery of this content (messageIdOf). */
  messageId?: string | null;
}

/** The Standard Webhooks message a delivery sends: its original's for a redelivery, else its own id. */
export const messageIdOf = (row: { id: string; messageId?: string | null }) => row.messageId ?? row.id;

/** Writes a PENDING delivery, due now, and prunes the user's history; call inside the deciding transaction. */
export async function enqueueDelivery(tx: Db, input: NewDelivery): Promise<DeliveryRow> {
  const [row] = await enqueueDeliveries(tx, [input]);
  return row!;
}

// Rows per INSERT: 14 parameters each stay well under the 65,535 parameters of one statement.
const INSERT_CHUNK = 1000;

/** enqueueDelivery for many rows at once (an evaluation pass): a few statements, whatever the count. */
export async function enqueueDeliveries(tx: Db, inputs: readonly NewDelivery[]): Promise<DeliveryRow[]> {
  if (inputs.length === 0) return [];
  const rows: DeliveryRow[] = [];
  for (let i = 0; i < inputs.length; i += INSERT_CHUNK) {
    const inserted = await tx
      .insert(webhookDeliveries)
      .values(
        inputs.slice(i, i + INSERT_CHUNK).map((input) => ({
          userId: input.userId,
          event: input.event,
          status: PENDING,
          url: input.url,
          body: input.body,
          payloadSummary: input.summary,
          attempts: 0,
          maxAttempts: input.maxAttempts,
          nextAttemptAt: input.now,
          createdAt: input.now,
          dedupeKey: input.dedupeKey ?? null,
          messageId: input.messageId ?? null,
        })),
      )
      .returning();
    // RETURNING follows the VALUES order for a plain INSERT; sort by seq to be sure.
    rows.push(...inserted.sort((a, b) => a.seq - b.seq));
  }
  const maxDeliveries = inputs[0]!.maxDeliveries;
  const users = JSON.stringify([...new Set(inputs.map((i) => i.userId))]);
  // Only finished rows go: a pending delivery is never lost, even beyond the history's size.
  await tx.execute(sql`
    delete from webhook_deliveries d
    using (select value::uuid as user_id from jsonb_array_elements_text(${users}::jsonb)) u
    where d.user_id = u.user_id and d.status <> ${PENDING}
      and d.seq < (select seq from webhook_deliveries w where w.user_id = u.user_id
                   order by seq desc offset ${maxDeliveries - 1} limit 1)`);
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) await notifyChanged(tx, rows.slice(i, i + INSERT_CHUNK));
  await notifyDue(tx);
  return rows;
}

/** The user's newest delivery that was enqueued with a dedupe key, if it is still kept. */
export async function latestWithDedupeKey(db: Db, userId: string): Promise<DeliveryRow | undefined> {
  const [row] = await db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.userId, userId), isNotNull(webhookDeliveries.dedupeKey)))
    .orderBy(desc(webhookDeliveries.seq))
    .limit(1);
  return row;
}

// Only finished rows go: a pending delivery is never lost, even beyond the history's size.
// Their attempt logs (with the stored request and response details) go with them by cascade.
async function pruneHistory(tx: Db, userId: string, maxDeliveries: number): Promise<void> {
  await tx.execute(sql`
    delete from webhook_deliveries
    where user_id = ${userId} and status <> ${PENDING}
      and seq < (select seq from webhook_deliveries where user_id = ${userId}
                 order by seq desc offset ${maxDeliveries - 1} limit 1)`);
}

/** Records a delivery that is not sent (its webhook is disabled), finished at once, and prunes like enqueueDelivery. */
export async function recordSkipped(tx: Db, input: NewDelivery & { reason: string }): Promise<DeliveryRow> {
  const [row] = await tx
    .insert(webhookDeliveries)
    .values({
      userId: input.userId,
      event: input.event,
      status: SKIPPED,
      url: input.url,
      body: input.body,
      payloadSummary: input.summary,
      attempts: 0,
      maxAttempts: input.maxAttempts,
      failureReason: clip(input.reason),
      createdAt: input.now,
      completedAt: input.now,
      messageId: input.messageId ?? null,
    })
    .returning();
  await pruneHistory(tx, input.userId, input.maxDeliveries);
  await notifyChanged(tx, [row!]);
  return row!;
}

/** An id list as one uuid[] parameter value; ids are uuids from our own rows. */
const uuidArray = (ids: string[]) => `{${ids.join(',')}}`;

/**
 * The claim, built once per database: a worker claims many times a second, and drizzle building
 * the statement each time was a tenth of its CPU. Being prepared, the server also keeps its plan;
 * the excluded ids go as one uuid[] parameter, so one statement serves any number of them.
 * The chosen ids are matched with `= any(array(…))`, not `in (…)`: the planner then fetches them
 * by primary key instead of hash-joining them against a scan of the whole table, history included.
 */
const claimQuery = preparedPerDb((db: Db) => {
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, PENDING),
        lte(webhookDeliveries.nextAttemptAt, sql.placeholder('now')),
        or(isNull(webhookDeliveries.leaseUntil), lte(webhookDeliveries.leaseUntil, sql.placeholder('now'))),
        sql`${webhookDeliveries.id} <> all(${sql.placeholder('excludeIds')}::uuid[])`,
        sql`${webhookDeliveries.userId} <> all(${sql.placeholder('excludeUsers')}::uuid[])`,
      ),
    )
    .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.seq))
    .limit(sql.placeholder('limit'))
    .for('update', { skipLocked: true });
  return db
    .update(webhookDeliveries)
    .set({ leaseOwner: sql`${sql.placeholder('owner')}`, leaseUntil: sql`${sql.placeholder('leaseUntil')}::timestamptz` })
    .where(sql`${webhookDeliveries.id} = any(array(${due}))`)
    .returning()
    .prepare('claimDue');
});

/** Leases up to `limit` due deliveries; rows locked by another claim are skipped, not waited for. */
export async function claimDue(
  db: Db,
  options: { owner: string; now: Date; leaseMs: number; limit: number; exclude?: string[]; excludeUsers?: string[] },
): Promise<DeliveryRow[]> {
  const { owner, now, leaseMs, limit, exclude = [], excludeUsers = [] } = options;
  const rows = await claimQuery(db).execute({
    owner,
    // Placeholders reach the driver as they are (no column encoding): timestamps go as ISO text.
    now: now.toISOString(),
    leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
    limit,
    excludeIds: uuidArray(exclude),
    excludeUsers: uuidArray(excludeUsers),
  });
  // RETURNING does not keep the subquery's order; the oldest due goes first.
  return rows.sort((a, b) => a.nextAttemptAt!.getTime() - b.nextAttemptAt!.getTime() || a.seq - b.seq);
}

/**
 * True when a claim at `now` (epoch ms) could take this row although its worker holds it claimed
 * ahead: its lease as the worker knows it has run out. A lease still running in memory runs at
 * least as long in the database (a renewal only extends it), so the claim's own lease condition
 * already leaves that row alone. (Rows sent whose result is not written yet are excluded whatever
 * their lease: the write itself clears it.)
 */
export const leaseRanOut = (row: DeliveryRow, now: number) => (row.leaseUntil?.getTime() ?? 0) <= now;

/** The claim as it must still be: leased by this owner, pending, not attempted since. */
const stillHeld = (row: DeliveryRow, owner: string) =>
  and(
    eq(webhookDeliveries.id, row.id),
    eq(webhookDeliveries.leaseOwner, owner),
    eq(webhookDeliveries.status, PENDING),
    eq(webhookDeliveries.attempts, row.attempts),
  );

/**
 * Just before sending: extends the leases of the rows `owner` still holds as claimed, in one
 * statement. An entry is null when the owner no longer holds that row (the lease ran out and
 * another worker took it, or the delivery was cancelled): it must not be sent.
 */
export async function renewLeases(
  db: Db,
  options: { rows: DeliveryRow[]; owner: string; now: Date; leaseMs: number },
): Promise<(DeliveryRow | null)[]> {
  const { rows, owner, now, leaseMs } = options;
  if (rows.length === 0) return [];
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const renewed = await db
    .update(webhookDeliveries)
    .set({ leaseUntil })
    .where(or(...rows.map((row) => stillHeld(row, owner))))
    .returning({ id: webhookDeliveries.id });
  const held = new Set(renewed.map((row) => row.id));
  return rows.map((row) => (held.has(row.id) ? { ...row, leaseUntil } : null));
}

/**
 * Ends a delivery the owner still holds without an attempt: FAILED when its endpoint cannot be
 * used, SKIPPED when its webhook was disabled after the claim.
 */
export async function failClaimed(
  db: Db,
  options: { row: DeliveryRow; owner: string; reason: string; now: Date; status?: typeof FAILED | typeof SKIPPED },
): Promise<DeliveryRow | null> {
  const { row, owner, reason, now, status = FAILED } = options;
  return db.transaction(async (tx) => {
    const [failed] = await tx
      .update(webhookDeliveries)
      .set({ status, failureReason: clip(reason), completedAt: now, nextAttemptAt: null, leaseOwner: null, leaseUntil: null })
      .where(stillHeld(row, owner))
      .returning();
    await notifyChanged(tx, failed ? [failed] : []);
    return failed ?? null;
  });
}

/** Gives leased rows back (shutdown), so another worker takes them without waiting for expiry. */
export async function releaseLeases(db: Db, owner: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(webhookDeliveries)
    .set({ leaseOwner: null, leaseUntil: null })
    .where(and(inArray(webhookDeliveries.id, ids), eq(webhookDeliveries.leaseOwner, owner)));
  await notifyDue(db);
}

function failureReasonFor(attempt: number, maxAttempts: number, error: string, final: boolean, permanent = false): string {
  if (permanent) return `Attempt ${attempt} of ${maxAttempts} failed; a retry cannot help, so none is made: ${error}`;
  if (!final) return `Attempt ${attempt} of ${maxAttempts} failed: ${error}`;
  return attempt === 1 ? `The only attempt failed: ${error}` : `All ${attempt} attempts failed: ${error}`;
}

export interface AttemptRecord {
  row: DeliveryRow;
  owner: string;
  /** Where this attempt went: the webhook's URL at send time, which may differ from the delivery's. */
  url: string;
  outcome: AttemptOutcome;
  now: Date;
  retryBaseMs: number;
  /** The longest wait a receiver's Retry-After can ask for. */
  retryAfterMaxMs: number;
}

/** The wait before the next attempt: base × 2^(n−1), or longer when the receiver asked for it (capped). */
export function retryDelayMs(attempt: number, retryBaseMs: number, retryAfterMs: number | null, retryAfterMaxMs: number): number {
  const backoff = retryBaseMs * 2 ** (attempt - 1);
  return retryAfterMs === null ? backoff : Math.max(backoff, Math.min(retryAfterMs, retryAfterMaxMs));
}

/** The delivery after an attempt: DELIVERED, due again after retryDelayMs, or FAILED. */
function afterAttempt({ row, outcome, now, retryBaseMs, retryAfterMaxMs }: AttemptRecord): DeliveryRow {
  const number = row.attempts + 1;
  const final = outcome.delivered || outcome.permanent !== null || number >= row.maxAttempts;
  const error = clip(outcome.error);
  return {
    ...row,
    status: outcome.delivered ? DELIVERED : final ? FAILED : PENDING,
    attempts: number,
    httpStatus: outcome.httpStatus,
    failureKind: outcome.failureKind,
    failureReason: error ? failureReasonFor(number, row.maxAttempts, error, final, outcome.permanent !== null) : null,
    nextAttemptAt: final ? null : new Date(now.getTime() + retryDelayMs(number, retryBaseMs, outcome.retryAfterMs, retryAfterMaxMs)),
    completedAt: final ? now : null,
    leaseOwner: null,
    leaseUntil: null,
  };
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

/**
 * The result write, prepared once per database (the server keeps its plan; parsing and planning
 * this statement cost as much as running it). The batch is one JSON parameter (text, cast in SQL,
 * so the driver sends it as it is), so the statement is the same for any number of rows.
 * The rows are fetched by primary key (`= any(array(…))`) and every other check compares with
 * what the worker holds (`v.prev_*`): with a constant `status = 'PENDING'` the planner also read
 * the due index for every pending row — after a burst, thousands per write — and hashed them all.
 * The change to publish is a JSON object inside the batch, not a string, so it is not escaped
 * twice; `json` keeps its text as written, which is the payload listeners parse.
 */
const recordQuery = preparedPerDb((db: Db) =>
  prepareSql(
    db,
    'recordAttempts',
    sql`with v as (
          select * from json_to_recordset(${sql.placeholder('batch')}::text::json) as r(id uuid, owner text, url text,
            prev_status text, prev_attempts int, status text, attempts int, http_status int, failure_kind text,
            failure_reason text, next_attempt_at timestamptz, completed_at timestamptz, started_at timestamptz,
            duration_ms int, error text, request_headers jsonb, response_headers jsonb, response_body text,
            response_ms int, change json)),
        updated as (
          update webhook_deliveries as d set status = v.status, attempts = v.attempts, http_status = v.http_status,
            failure_kind = v.failure_kind, failure_reason = v.failure_reason, next_attempt_at = v.next_attempt_at,
            completed_at = v.completed_at, lease_owner = null, lease_until = null
          from v
          where d.id = any(array(select id from v)) and d.id = v.id
            and d.lease_owner = v.owner and d.status = v.prev_status and d.attempts = v.prev_attempts
          returning d.id),
        logged as (
          insert into delivery_attempts (delivery_id, number, url, started_at, duration_ms, http_status, error, failure_kind,
            request_headers, response_headers, response_body, response_ms)
          select v.id, v.attempts, v.url, v.started_at, v.duration_ms, v.http_status, v.error, v.failure_kind,
            v.request_headers, v.response_headers, v.response_body, v.response_ms
          from v join updated on updated.id = v.id)
        select v.id, pg_notify(${DELIVERY_CHANGED_CHANNEL}, v.change::text) from v join updated on updated.id = v.id`,
    (rows) => rows.map(([id]) => id as string),
  ),
);

/**
 * Logs attempts and moves their deliveries on, many at once (group commit: a worker records
 * whatever finished while its previous write was in progress). One statement updates the rows
 * still held by their worker, logs their attempts and publishes the changes. An entry is null
 * when its worker no longer held the row (lease lost, cancelled, pruned): not recorded.
 */
export async function recordAttempts(db: Db, records: AttemptRecord[]): Promise<(DeliveryRow | null)[]> {
  if (records.length === 0) return [];
  const next = records.map(afterAttempt);
  const batch = JSON.stringify(
    records.map(({ row, owner, url, outcome }, i) => ({
      id: row.id,
      owner,
      url,
      prev_status: row.status,
      prev_attempts: row.attempts,
      status: next[i]!.status,
      attempts: next[i]!.attempts,
      http_status: next[i]!.httpStatus,
      failure_kind: next[i]!.failureKind,
      failure_reason: next[i]!.failureReason,
      next_attempt_at: iso(next[i]!.nextAttemptAt),
      completed_at: iso(next[i]!.completedAt),
      started_at: iso(outcome.startedAt),
      duration_ms: outcome.durationMs,
      error: clip(outcome.error),
      request_headers: outcome.details?.requestHeaders ?? null,
      response_headers: outcome.details?.responseHeaders ?? null,
      response_body: storedBodyText(outcome.details?.responseBody ?? null),
      response_ms: outcome.details?.responseMs ?? null,
      change: toChange(next[i]!),
    })),
  );
  const kept = new Set(await recordQuery(db).execute({ batch }));
  return next.map((row) => (kept.has(row.id) ? row : null));
}

/**
 * Ends pending deliveries as FAILED (or SKIPPED) with a reason, e.g. when their webhook is deleted.
 * `unleasedAt` leaves the ones a worker holds under a live lease to finish: it may be sending them now.
 */
export async function failPending(
  tx: Db,
  where: { userId: string; id?: string; unleasedAt?: Date },
  reason: string,
  now: Date,
  status: DeliveryStatus = FAILED,
): Promise<DeliveryRow[]> {
  const rows = await tx
    .update(webhookDeliveries)
    .set({ status, failureReason: reason, completedAt: now, nextAttemptAt: null, leaseOwner: null, leaseUntil: null })
    .where(
      and(
        eq(webhookDeliveries.userId, where.userId),
        eq(webhookDeliveries.status, PENDING),
        where.id ? eq(webhookDeliveries.id, where.id) : undefined,
        where.unleasedAt ? or(isNull(webhookDeliveries.leaseUntil), lte(webhookDeliveries.leaseUntil, where.unleasedAt)) : undefined,
      ),
    )
    .returning();
  await notifyChanged(tx, rows);
  return rows;
}

/** When the next pending delivery becomes claimable: its due time, or its lease's end. */
export async function nextWakeAt(db: Db, excludeUsers: string[] = []): Promise<Date | null> {
  const [result] = await db
    .select({
      at: sql<Date | null>`min(greatest(${webhookDeliveries.nextAttemptAt}, coalesce(${webhookDeliveries.leaseUntil}, ${webhookDeliveries.nextAttemptAt})))`.mapWith(
        webhookDeliveries.nextAttemptAt,
      ),
    })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.status, PENDING),
        sql`${webhookDeliveries.userId} <> all(${uuidArray(excludeUsers)}::uuid[])`,
      ),
    );
  return result?.at ?? null;
}
