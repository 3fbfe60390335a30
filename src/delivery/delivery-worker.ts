import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { AttemptRecorder } from './attempt-recorder.js';
import { Claimer } from './claimer.js';
import { DELIVERY_DUE_CHANNEL } from './delivery-events.js';
import { failClaimed, leaseRanOut, messageIdOf, releaseLeases, WEBHOOK_DELETED_REASON, webhookDisabledReason, type DeliveryRow } from './delivery-queue.js';
import { SKIPPED } from './delivery-status.js';
import { EndpointBreakers } from './endpoint-breaker.js';
import { createHttpSender, type AttemptOutcome, type HttpSender, type LookupFn } from './http-sender.js';
import { SendSlots } from './send-slots.js';

/**
 * Where and how a user's deliveries go right now; null when the user has no webhook, and
 * EndpointDisabled thrown when it is disabled. Throws EndpointUnusable when the endpoint exists but can never be sent to as stored; any
 * other error is taken as passing (the row is tried again once its lease ends).
 */
interface Endpoint {
  url: string;
  secret: string | null;
  /** Secrets from before a rotation that also sign until their overlap ends. */
  previousSecrets?: string[];
  /** When the webhook was created; replacing its URL or secret keeps it, deleting it does not. */
  createdAt: Date;
}

export type ResolveEndpoint = (userId: string) => Promise<Endpoint | null>;

// A lease with less than the send timeout plus this left is renewed before the send.
const LEASE_MARGIN_MS = 5_000;

/** The webhook was disabled after the row was claimed: the delivery ends SKIPPED, as the others were. */
export class EndpointDisabled extends Error {
  constructor(readonly disabledReason: string | null) {
    super('The webhook is disabled');
    this.name = 'EndpointDisabled';
  }
}

/** The endpoint cannot be used until someone fixes it: the delivery ends FAILED with this message. */
export class EndpointUnusable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EndpointUnusable';
  }
}

export interface DeliveryWorkerConfig {
  concurrency: number;
  /** Send slots one endpoint (a user's webhook) may hold at once. */
  endpointConcurrency: number;
  /** Consecutive timeouts that open an endpoint's breaker, and how long it stays open. */
  endpointBreakerFailures: number;
  endpointBreakerCooldownMs: number;
  batchSize: number;
  leaseMs: number;
  retryBaseMs: number;
  retryAfterMaxMs: number;
  timeoutMs: number;
  allowPrivateNetworks: boolean;
}

export interface DeliveryWorkerDeps {
  database: Pick<Database, 'db' | 'listen'>;
  clock: Clock;
  logger: Logger;
  config: DeliveryWorkerConfig;
  resolveEndpoint: ResolveEndpoint;
  workerId?: string;
  lookup?: LookupFn;
  sender?: HttpSender;
  /** Told of every recorded attempt and the URL it went to (the webhook's health: auto-disable); must not throw. */
  onRecorded?: (row: DeliveryRow, url: string) => Promise<void>;
  /** Told of every attempt as it ends (metrics). */
  observeAttempt?: (outcome: AttemptOutcome) => void;
}

export interface DeliveryWorker {
  readonly id: string;
  start(): Promise<void>;
  /** Stops claiming, finishes the sends in flight and gives back leased rows not yet started. */
  stop(): Promise<void>;
  /** Looks for due work now (also done on NOTIFY and on the timer). */
  wake(): void;
}

/** Claimer → send slots (per-endpoint caps, breakers) → sender → recorder. */
export function createDeliveryWorker(deps: DeliveryWorkerDeps): DeliveryWorker {
  const { database, clock, logger, config } = deps;
  const db = database.db;
  const id = deps.workerId ?? `worker-${randomUUID()}`;
  const ownSender = !deps.sender;
  const sender =
    deps.sender ??
    createHttpSender({
      timeoutMs: config.timeoutMs,
      allowPrivateNetworks: config.allowPrivateNetworks,
      clock,
      lookup: deps.lookup,
      connections: config.concurrency,
    });

  if (config.leaseMs <= config.timeoutMs) {
    logger.warn('DELIVERY_LEASE_MS is not longer than WEBHOOK_TIMEOUT_MS: a slow send may be retried by another worker', {
      leaseMs: config.leaseMs,
      timeoutMs: config.timeoutMs,
    });
  }

  const now = () => clock.now().getTime();
  const breakers = new EndpointBreakers({ failures: config.endpointBreakerFailures, cooldownMs: config.endpointBreakerCooldownMs });
  const slots = new SendSlots<DeliveryRow>(config.concurrency, (userId) => breakers.limit(userId, now(), config.endpointConcurrency));
  const recorder = new AttemptRecorder(db, clock, {
    owner: id,
    leaseMs: config.leaseMs,
    retryBaseMs: config.retryBaseMs,
    retryAfterMaxMs: config.retryAfterMaxMs,
  });
  // Rows claimed ahead keep the send slots busy; one that waits so long that its lease runs short
  // is re-checked before it is sent (see deliver), so claiming ahead is safe. Two batches: with
  // one, a claim's round trip on a busy machine (tens of ms) left the slots idle a third of the time.
  const prefetch = 2 * config.batchSize;
  const claimer = new Claimer({
    db,
    clock,
    logger,
    owner: id,
    leaseMs: config.leaseMs,
    batchSize: config.batchSize,
    retryMs: Math.max(1000, config.retryBaseMs),
    // Results not yet written are bounded too: claim more only once the writes keep up.
    wanted: () => (recorder.backlog >= config.concurrency * 8 ? 0 : slots.wanted(prefetch)),
    exclusions: (at) => ({
      // Unwritten results always: once a retry's write commits (PENDING, lease cleared) a claim
      // could take the row before this worker has let go of it.
      ids: [...slots.held.filter((row) => leaseRanOut(row, at)).map((row) => row.id), ...recorder.unrecordedIds],
      users: [...slots.saturated(breakers.openKeys(now()))],
    }),
    accept: (rows) => {
      const extra = slots.add(rows);
      if (extra.length > 0) giveBack(extra.map((row) => row.id));
      dispatch();
    },
    localWakeAt: () => breakers.nextTrialAt(now()),
  });
  const tasks = new Set<Promise<void>>();
  let started = false;
  let stopping = false;
  let unlisten: (() => Promise<void>) | null = null;

  async function endpointFor(row: DeliveryRow): Promise<Endpoint | null> {
    try {
      const endpoint = await deps.resolveEndpoint(row.userId);
      if (!endpoint) await failClaimed(db, { row, owner: id, reason: WEBHOOK_DELETED_REASON, now: clock.now() });
      return endpoint;
    } catch (error) {
      if (error instanceof EndpointDisabled) {
        const reason = webhookDisabledReason(error.disabledReason);
        await failClaimed(db, { row, owner: id, reason, now: clock.now(), status: SKIPPED });
        return null;
      }
      if (!(error instanceof EndpointUnusable)) throw error;
      logger.error('delivery failed: its endpoint cannot be used', { deliveryId: row.id, workerId: id, error });
      await failClaimed(db, { row, owner: id, reason: error.message, now: clock.now() });
      return null;
    }
  }

  /** An endpoint that keeps timing out gets no slots for a while: its rows not yet sent go back to the queue. */
  function backOff(userId: string, url: string): void {
    logger.warn('endpoint keeps timing out; its deliveries wait for a cooldown', {
      userId,
      url,
      workerId: id,
      cooldownMs: config.endpointBreakerCooldownMs,
    });
    giveBack(slots.withdraw((row) => row.userId === userId).map((row) => row.id));
  }

  function giveBack(ids: string[]): void {
    releaseLeases(db, id, ids).catch((error: unknown) => logger.error('could not release leases', { workerId: id, error }));
  }

  /** Sends one attempt; the send slot is free again as soon as the answer is in, before it is written. */
  async function deliver(claimed: DeliveryRow): Promise<void> {
    const endpoint = await endpointFor(claimed);
    if (!endpoint) return;
    // The row may have waited in memory since its claim. It is safe to send without asking the
    // database when the lease outlasts the whole attempt and the webhook is not newer than the
    // delivery (only deleting the webhook cancels a leased delivery, disabling leaves it to
    // finish, and a deleted webhook comes back with a new createdAt). Otherwise one statement
    // re-checks and renews the lease.
    const leaseLeft = (claimed.leaseUntil?.getTime() ?? 0) - now();
    const safe = leaseLeft > config.timeoutMs + LEASE_MARGIN_MS && endpoint.createdAt <= claimed.createdAt;
    const row = safe ? claimed : await recorder.renew(claimed);
    if (!row) {
      logger.debug('delivery no longer held by this worker; not sent', { deliveryId: claimed.id, workerId: id });
      return;
    }
    const outcome = await sender.send({
      url: endpoint.url,
      deliveryId: row.id,
      messageId: messageIdOf(row),
      event: row.event,
      body: row.body,
      secret: endpoint.secret,
      previousSecrets: endpoint.previousSecrets,
    });
    slots.free(claimed);
    deps.observeAttempt?.(outcome);
    if (breakers.record(row.userId, outcome, now())) backOff(row.userId, endpoint.url);
    const updated = recorder.record(row, endpoint.url, outcome);
    dispatch();
    claimer.wake();
    const recorded = await updated;
    if (!recorded) logger.warn('delivery changed while it was being sent; result not recorded', { deliveryId: row.id, workerId: id });
    else {
      logger.debug('delivery attempt', {
        deliveryId: row.id,
        workerId: id,
        attempt: recorded.attempts,
        status: recorded.status,
        failureKind: outcome.failureKind,
      });
      await deps.onRecorded?.(recorded, endpoint.url);
    }
  }

  function dispatch(): void {
    for (let row = stopping ? undefined : slots.take(); row; row = stopping ? undefined : slots.take()) {
      const claimed = row;
      const task: Promise<void> = deliver(claimed)
        // The lease is kept: the row is retried once it expires, not hammered in a loop.
        .catch((error: unknown) => {
          logger.error('delivery attempt could not be recorded', { deliveryId: claimed.id, workerId: id, error });
        })
        .finally(() => {
          slots.free(claimed);
          tasks.delete(task);
          dispatch();
          claimer.wake();
        });
      tasks.add(task);
    }
  }

  const wake = () => {
    if (started && !stopping) claimer.wake();
  };

  return {
    id,
    async start() {
      if (started) return;
      started = true;
      unlisten = await database.listen(DELIVERY_DUE_CHANNEL, wake);
      logger.info('delivery worker started', {
        workerId: id,
        concurrency: config.concurrency,
        endpointConcurrency: config.endpointConcurrency,
        batchSize: config.batchSize,
      });
      wake();
    },
    wake,
    async stop() {
      if (!started || stopping) return;
      stopping = true;
      await unlisten?.().catch(() => {});
      await claimer.stop();
      const unstarted = slots.withdraw().map((r) => r.id);
      await releaseLeases(db, id, unstarted).catch((error: unknown) => logger.error('could not release leases', { error }));
      await Promise.allSettled([...tasks]);
      if (ownSender) await sender.close();
      logger.info('delivery worker stopped', { workerId: id });
    },
  };
}
