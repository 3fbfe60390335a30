import { randomUUID } from 'node:crypto';
import { setClockTimer, type Clock } from '../clock.js';
import type { Database } from '../db/client.js';
import type { Logger } from '../logger.js';
import { DELIVERY_DUE_CHANNEL } from './delivery-events.js';
import {
  claimDue,
  failClaimed,
  nextWakeAt,
  recordAttempts,
  releaseLeases,
  renewLeases,
  WEBHOOK_DELETED_REASON,
  type AttemptRecord,
  type DeliveryRow,
} from './delivery-queue.js';
import { createGroupCommit } from './group-commit.js';
import { createHttpSender, type HttpSender, type LookupFn } from './http-sender.js';

/**
 * Where and how a user's deliveries go right now; null when the user has no active webhook.
 * Throws EndpointUnusable when the endpoint exists but can never be sent to as stored; any
 * other error is taken as passing (the row is tried again once its lease ends).
 */
export interface Endpoint {
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

/** The endpoint cannot be used until someone fixes it: the delivery ends FAILED with this message. */
export class EndpointUnusable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EndpointUnusable';
  }
}

export interface DeliveryWorkerConfig {
  concurrency: number;
  batchSize: number;
  leaseMs: number;
  retryBaseMs: number;
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
  /** Told of every recorded attempt (the webhook's health: auto-disable); must not throw. */
  onRecorded?: (row: DeliveryRow) => Promise<void>;
}

export interface DeliveryWorker {
  readonly id: string;
  start(): Promise<void>;
  /** Stops claiming, finishes the sends in flight and gives back leased rows not yet started. */
  stop(): Promise<void>;
  /** Looks for due work now (also done on NOTIFY and on the timer). */
  wake(): void;
}

// A safety net for a NOTIFY lost while a connection was re-established; not a polling loop.
const MAX_SLEEP_MS = 60_000;

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

  const buffer: DeliveryRow[] = [];
  const sending = new Set<string>();
  const unrecorded = new Set<string>();
  const tasks = new Set<Promise<void>>();
  let started = false;
  let stopping = false;
  let pumping: Promise<void> | null = null;
  let again = false;
  let cancelTimer: (() => void) | null = null;
  let unlisten: (() => Promise<void>) | null = null;

  if (config.leaseMs <= config.timeoutMs) {
    logger.warn('DELIVERY_LEASE_MS is not longer than WEBHOOK_TIMEOUT_MS: a slow send may be retried by another worker', {
      leaseMs: config.leaseMs,
      timeoutMs: config.timeoutMs,
    });
  }

  // Both writes around a send go by group commit: one statement for all that are due together.
  const leases = createGroupCommit((rows: DeliveryRow[]) =>
    renewLeases(db, { rows, owner: id, now: clock.now(), leaseMs: config.leaseMs }),
  );
  const recorder = createGroupCommit((records: AttemptRecord[]) => recordAttempts(db, records));
  // Rows claimed ahead keep the send slots busy; one that waits so long that its lease runs short
  // is re-checked before it is sent (see deliver), so claiming a whole batch ahead is safe.
  const prefetch = config.batchSize;

  async function endpointFor(row: DeliveryRow): Promise<Endpoint | null> {
    try {
      const endpoint = await deps.resolveEndpoint(row.userId);
      if (!endpoint) await failClaimed(db, { row, owner: id, reason: WEBHOOK_DELETED_REASON, now: clock.now() });
      return endpoint;
    } catch (error) {
      if (!(error instanceof EndpointUnusable)) throw error;
      logger.error('delivery failed: its endpoint cannot be used', { deliveryId: row.id, workerId: id, error });
      await failClaimed(db, { row, owner: id, reason: error.message, now: clock.now() });
      return null;
    }
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
    const leaseLeft = (claimed.leaseUntil?.getTime() ?? 0) - clock.now().getTime();
    const safe = leaseLeft > config.timeoutMs + LEASE_MARGIN_MS && endpoint.createdAt <= claimed.createdAt;
    const row = safe ? claimed : await leases.submit(claimed);
    if (!row) {
      logger.debug('delivery no longer held by this worker; not sent', { deliveryId: claimed.id, workerId: id });
      return;
    }
    const outcome = await sender.send({ url: endpoint.url, deliveryId: row.id, event: row.event, body: row.body, secret: endpoint.secret, previousSecrets: endpoint.previousSecrets });
    sending.delete(row.id);
    unrecorded.add(row.id);
    dispatch();
    wake();
    try {
      // Waits and completedAt count from the end of the attempt, not from when it is written.
      const ended = new Date(outcome.startedAt.getTime() + outcome.durationMs);
      const updated = await recorder.submit({ row, owner: id, url: endpoint.url, outcome, now: ended, retryBaseMs: config.retryBaseMs });
      if (!updated) logger.warn('delivery changed while it was being sent; result not recorded', { deliveryId: row.id, workerId: id });
      else {
        logger.debug('delivery attempt', {
          deliveryId: row.id,
          workerId: id,
          attempt: updated.attempts,
          status: updated.status,
          failureKind: outcome.failureKind,
        });
        await deps.onRecorded?.(updated);
      }
    } finally {
      unrecorded.delete(row.id);
    }
  }

  function dispatch(): void {
    while (!stopping && sending.size < config.concurrency && buffer.length > 0) {
      const row = buffer.shift()!;
      sending.add(row.id);
      const task: Promise<void> = deliver(row)
        // The lease is kept: the row is retried once it expires, not hammered in a loop.
        .catch((error: unknown) => {
          logger.error('delivery attempt could not be recorded', { deliveryId: row.id, workerId: id, error });
        })
        .finally(() => {
          sending.delete(row.id);
          tasks.delete(task);
          dispatch();
          wake();
        });
      tasks.add(task);
    }
  }

  async function scheduleTimer(): Promise<void> {
    cancelTimer?.();
    cancelTimer = null;
    const at = await nextWakeAt(db);
    if (stopping) return;
    const delay = at ? Math.min(MAX_SLEEP_MS, Math.max(0, at.getTime() - clock.now().getTime())) : MAX_SLEEP_MS;
    cancelTimer = setClockTimer(clock, wake, delay);
  }

  async function pumpOnce(): Promise<void> {
    for (;;) {
      dispatch();
      // Claim ahead, so the next row is at hand when a send slot frees.
      const wanted = config.concurrency - sending.size + prefetch - buffer.length;
      if (stopping || wanted <= 0) return;
      // Results not yet written are bounded too: claim more only once the writes keep up.
      if (recorder.backlog >= config.concurrency * 8) return;
      const claimed = await claimDue(db, {
        owner: id,
        now: clock.now(),
        leaseMs: config.leaseMs,
        limit: Math.min(config.batchSize, wanted),
        exclude: [...sending, ...unrecorded, ...buffer.map((r) => r.id)],
      });
      if (stopping) {
        await releaseLeases(db, id, claimed.map((r) => r.id));
        return;
      }
      buffer.push(...claimed);
      if (claimed.length === 0) {
        await scheduleTimer();
        return;
      }
    }
  }

  function wake(): void {
    if (!started || stopping) return;
    if (pumping) {
      again = true;
      return;
    }
    pumping = (async () => {
      do {
        again = false;
        try {
          await pumpOnce();
        } catch (error) {
          logger.error('delivery worker could not claim work', { workerId: id, error });
          cancelTimer?.();
          cancelTimer = setClockTimer(clock, wake, Math.max(1000, config.retryBaseMs));
          again = false;
        }
      } while (again && !stopping);
      pumping = null;
    })();
  }

  return {
    id,
    async start() {
      if (started) return;
      started = true;
      unlisten = await database.listen(DELIVERY_DUE_CHANNEL, () => wake());
      logger.info('delivery worker started', { workerId: id, concurrency: config.concurrency, batchSize: config.batchSize });
      wake();
    },
    wake,
    async stop() {
      if (!started || stopping) return;
      stopping = true;
      cancelTimer?.();
      await unlisten?.().catch(() => {});
      await pumping;
      const unstarted = buffer.splice(0).map((r) => r.id);
      await releaseLeases(db, id, unstarted).catch((error: unknown) => logger.error('could not release leases', { error }));
      await Promise.allSettled([...tasks]);
      if (ownSender) await sender.close();
      logger.info('delivery worker stopped', { workerId: id });
    },
  };
}
