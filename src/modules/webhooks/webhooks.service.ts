import { randomBytes } from 'node:crypto';
import { filter, map, pipe } from 'graphql-yoga';
import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { isStandardWebhooksSecret, STANDARD_WEBHOOKS_PREFIX } from '../../delivery/signature.js';
import { WebhookNotFound, validationErrorFromZod } from '../../errors.js';
import type { SecretBox } from './secret-box.js';
import { checkWebhookUrl } from './webhook-url.js';
import { toStoredEvents, WEBHOOK_EVENT_TYPE_NAMES, type WebhookEventType } from './webhook-event-types.js';
import { notifyWebhookUpdated, type WebhookUpdates } from './webhook-updates.js';
import { webhooksRepository, type WebhookRow, type WebhookValues } from './webhooks.repository.js';

const Secret = z
  .string()
  .min(1, 'The secret must not be empty')
  .max(256, 'The secret must be at most 256 characters')
  .refine(
    (secret) => !secret.startsWith(STANDARD_WEBHOOKS_PREFIX) || isStandardWebhooksSecret(secret),
    'A whsec_ secret must be base64 after the prefix (Standard Webhooks libraries decode it); leave the secret out of rotateWebhookSecret to have one generated, or drop the prefix',
  );

const MAX_OVERLAP_SECONDS = 30 * 86_400;
const DEFAULT_OVERLAP_SECONDS = 86_400;

const SetInput = z.object({
  secret: Secret.nullish(),
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPE_NAMES as [WebhookEventType, ...WebhookEventType[]]))
    .min(1, 'List at least one event type, or omit events for all')
    .nullish(),
});

const RotateInput = z.object({
  secret: Secret.nullish(),
  overlapSeconds: z
    .number()
    .int('The overlap must be a whole number of seconds')
    .min(0, 'The overlap must not be negative')
    .max(MAX_OVERLAP_SECONDS, `The overlap must be at most ${MAX_OVERLAP_SECONDS} seconds (30 days)`)
    .nullish(),
});

export interface WebhooksDeps {
  db: Db;
  clock: Clock;
  secretBox: SecretBox;
  /** false: refuse literal private addresses and localhost (WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks?: boolean;
  updates: WebhookUpdates;
  /** Ends the user's pending deliveries when the webhook is deleted (the deliveries service). */
  cancelPending: (tx: Db, userId: string) => Promise<void>;
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
const generateWebhookSecret = () => `${STANDARD_WEBHOOKS_PREFIX}${randomBytes(32).toString('base64')}`;

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationErrorFromZod(parsed.error.issues, ['input']);
  return parsed.data;
}

export function webhooksService(deps: WebhooksDeps) {
  const { db, clock } = deps;
  const repo = webhooksRepository(db);

  /** Runs a change of the user's webhook and tells every process's subscribers once it is committed. */
  const change = <T>(userId: string, work: (tx: Db) => Promise<T>) =>
    db.transaction(async (tx) => {
      const result = await work(tx);
      await notifyWebhookUpdated(tx, userId);
      return result;
    });

  return {
    get: (userId: string) => repo.findByUser(userId),

    /**
     * Creates or replaces the webhook and makes it active. An omitted secret or events list keeps
     * the stored one; an explicit null removes the secret, or restores all events.
     */
    async set(
      userId: string,
      input: { url: string; secret?: string | null | undefined; events?: WebhookEventType[] | null | undefined },
    ) {
      checkWebhookUrl(input.url, { allowPrivateNetworks: deps.allowPrivateNetworks });
      const parsed = parse(SetInput, { secret: input.secret, events: input.events });
      const values: WebhookValues = { url: input.url };
      if (input.secret !== undefined) values.secret = parsed.secret ? deps.secretBox.seal(parsed.secret) : null;
      if (input.events !== undefined) values.events = parsed.events ? toStoredEvents(parsed.events) : null;
      const { row, created } = await change(userId, (tx) => webhooksRepository(tx).upsert(userId, values, clock.now()));
      return {
        webhook: row,
        created,
        message: created ? 'Webhook registered successfully' : 'Webhook updated successfully',
      };
    },

    /** A new secret signs from now on; the current one also signs until the overlap ends. */
    async rotateSecret(userId: string, input: { secret?: string | null; overlapSeconds?: number | null }) {
      const parsed = parse(RotateInput, input);
      const secret = parsed.secret ?? generateWebhookSecret();
      const overlapMs = (parsed.overlapSeconds ?? DEFAULT_OVERLAP_SECONDS) * 1000;
      const webhook = await change(userId, async (tx) => {
        const webhooks = webhooksRepository(tx);
        const current = await webhooks.lockByUser(userId);
        if (!current) throw new WebhookNotFound();
        const now = clock.now();
        const keepPrevious = current.secretCiphertext !== null && overlapMs > 0;
        const sealed = deps.secretBox.seal(secret);
        return webhooks.update(userId, {
          secretCiphertext: sealed.ciphertext,
          secretKeyId: sealed.keyId,
          previousSecretCiphertext: keepPrevious ? current.secretCiphertext : null,
          previousSecretKeyId: keepPrevious ? current.secretKeyId : null,
          previousSecretExpiresAt: keepPrevious ? new Date(now.getTime() + overlapMs) : null,
          secretRotatedAt: now,
          updatedAt: now,
        });
      });
      return { secret, webhook: webhook! };
    },

    /** Re-activates a webhook (disabled after failures, or not); its run of failures starts over. */
    async enable(userId: string) {
      const webhook = await change(userId, async (tx) => {
        const row = await webhooksRepository(tx).enable(userId, clock.now());
        if (!row) throw new WebhookNotFound();
        return row;
      });
      return { webhook };
    },

    async delete(userId: string) {
      // One transaction: nothing can be enqueued between the delete and the cancel, and a worker
      // whose send is in flight finds the row FAILED and records nothing.
      await db.transaction(async (tx) => {
        if (!(await webhooksRepository(tx).deleteByUser(userId))) throw new WebhookNotFound();
        await deps.cancelPending(tx, userId);
      });
      return { message: 'Webhook deleted successfully' };
    },

    /** Every later state of the user's webhook, from any process; nothing while it does not exist. */
    async subscribe(userId: string): Promise<AsyncIterable<WebhookRow>> {
      const signals = await deps.updates.subscribe(userId);
      return pipe(
        signals,
        map(() => repo.findByUser(userId)),
        filter((row): row is WebhookRow => row !== undefined),
      );
    },
  };
}

export type WebhooksService = ReturnType<typeof webhooksService>;
