import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull();

export const users = pgTable('users', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  name: text('name').notNull(),
  email: text('email').notNull().unique(),
  // Keys live in api_keys. Kept for one release (the previous one reads it): legacy-api-key.ts moves a
  // key found only here on first use; a later migration clears it.
  apiKeyHash: text('api_key_hash').unique(),
  createdAt: createdAt(),
});

export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    keyHash: text('key_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('api_keys_user_idx').on(t.userId, t.createdAt)],
);

export const webhooks = pgTable('webhooks', {
  userId: uuid('user_id')
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  url: text('url').notNull(),
  secretCiphertext: text('secret_ciphertext'),
  secretKeyId: text('secret_key_id'),
  // The secret before the last rotation; it also signs until previousSecretExpiresAt.
  previousSecretCiphertext: text('previous_secret_ciphertext'),
  previousSecretKeyId: text('previous_secret_key_id'),
  previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, mode: 'date' }),
  secretRotatedAt: timestamp('secret_rotated_at', { withTimezone: true, mode: 'date' }),
  // Null means every event type, including ones added later.
  events: text('events').array(),
  isActive: boolean('is_active').notNull().default(true),
  disabledAt: timestamp('disabled_at', { withTimezone: true, mode: 'date' }),
  disabledReason: text('disabled_reason'),
  // The current run of FAILED deliveries, for auto-disable; reset by a DELIVERED one or re-enabling.
  consecutiveFailures: integer('consecutive_failures').notNull().default(0),
  failingSince: timestamp('failing_since', { withTimezone: true, mode: 'date' }),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull(),
});

export const quotes = pgTable('quotes', {
  ticker: text('ticker').primaryKey(),
  price: doublePrecision('price').notNull(),
  asOf: timestamp('as_of', { withTimezone: true, mode: 'date' }).notNull(),
});

export const quoteHistory = pgTable(
  'quote_history',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    ticker: text('ticker').notNull(),
    price: doublePrecision('price').notNull(),
    asOf: timestamp('as_of', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('quote_history_ticker_as_of_idx').on(t.ticker, t.asOf)],
);

export const alerts = pgTable(
  'alerts',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    alertType: text('alert_type').notNull(),
    ticker: text('ticker').notNull(),
    targetPrice: doublePrecision('target_price'),
    direction: text('direction'),
    targetSignal: text('target_signal'),
    thresholdPercent: doublePrecision('threshold_percent'),
    baselinePrice: doublePrecision('baseline_price'),
    createdAt: createdAt(),
    // Edge-triggered notification state (docs/alerts.md).
    state: text('state').notNull().default('ARMED'),
    notify: text('notify').notNull().default('EVERY_CROSSING'),
    cooldownSeconds: integer('cooldown_seconds'),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    notifyResolved: boolean('notify_resolved').notNull().default(false),
    lastTriggeredAt: timestamp('last_triggered_at', { withTimezone: true, mode: 'date' }),
    triggerCount: integer('trigger_count').notNull().default(0),
    // When the state last changed; equal to lastTriggeredAt when the last crossing notified.
    stateChangedAt: timestamp('state_changed_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('alerts_user_id_idx').on(t.userId, t.createdAt), index('alerts_ticker_idx').on(t.ticker)],
);

/** Price changes not yet evaluated: written in the quote's transaction, deleted by the evaluation that handles them. */
export const quoteChanges = pgTable(
  'quote_changes',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    ticker: text('ticker').notNull(),
    price: doublePrecision('price').notNull(),
    asOf: timestamp('as_of', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('quote_changes_ticker_idx').on(t.ticker, t.id)],
);

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
    // Orders deliveries created within the same millisecond (newest first, pruning).
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    status: text('status').notNull(),
    url: text('url').notNull(),
    // The exact JSON body, kept as text so every attempt and redelivery sends the same bytes.
    body: text('body').notNull(),
    payloadSummary: text('payload_summary').notNull(),
    httpStatus: integer('http_status'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    failureReason: text('failure_reason'),
    failureKind: text('failure_kind'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
    createdAt: createdAt(),
    completedAt: timestamp('completed_at', { withTimezone: true, mode: 'date' }),
    // Set by callers that must not enqueue the same content twice (triggeredAlerts).
    dedupeKey: text('dedupe_key'),
    // A redelivery sends the same message again: the original's id, sent as webhook-id (Standard
    // Webhooks: the same id when a message is resent). Null: this delivery's own id.
    messageId: uuid('message_id'),
  },
  (t) => [
    index('webhook_deliveries_user_idx').on(t.userId, t.seq),
    // seq as well: a claim (oldest due first, by seq within one instant) reads the first rows of
    // this index instead of sorting every due row, which a burst enqueued at one instant made slow.
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt, t.seq),
  ],
);

export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    number: integer('number').notNull(),
    // Null for attempts logged before this column existed.
    url: text('url'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    durationMs: integer('duration_ms').notNull(),
    httpStatus: integer('http_status'),
    error: text('error'),
    failureKind: text('failure_kind'),
    // What was sent and answered, each bounded in size (see delivery/attempt-details.ts).
    requestHeaders: jsonb('request_headers').$type<[string, string][]>(),
    responseHeaders: jsonb('response_headers').$type<[string, string][]>(),
    responseBody: text('response_body'),
    // From the start of the attempt until the response headers arrived; durationMs includes reading the body.
    responseMs: integer('response_ms'),
  },
  (t) => [uniqueIndex('delivery_attempts_delivery_number_idx').on(t.deliveryId, t.number)],
);

export const tables = { users, apiKeys, webhooks, quotes, quoteHistory, quoteChanges, alerts, webhookDeliveries, deliveryAttempts };
export type Tables = typeof tables;
