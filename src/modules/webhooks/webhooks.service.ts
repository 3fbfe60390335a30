import { z } from 'zod';
import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import { failPending, WEBHOOK_DELETED_REASON } from '../../delivery/delivery-queue.js';
import { WebhookNotFound, validationErrorFromZod } from '../../errors.js';
import type { SecretBox } from './secret-box.js';
import { checkWebhookUrl } from './webhook-url.js';
import { webhooksRepository, type WebhookRow } from './webhooks.repository.js';

const Secret = z
  .string()
  .min(1, 'The secret must not be empty')
  .max(256, 'The secret must be at most 256 characters');

export interface WebhooksDeps {
  db: Db;
  clock: Clock;
  secretBox: SecretBox;
  /** false: refuse literal private addresses and localhost (WEBHOOK_ALLOW_PRIVATE_NETWORKS). */
  allowPrivateNetworks?: boolean;
}

export function webhooksService(deps: WebhooksDeps) {
  const repo = webhooksRepository(deps.db);
  return {
    get: (userId: string) => repo.findByUser(userId),

    async set(userId: string, input: { url: string; secret?: string | null | undefined }) {
      checkWebhookUrl(input.url, { allowPrivateNetworks: deps.allowPrivateNetworks });
      let sealed = null;
      if (input.secret !== undefined && input.secret !== null) {
        const parsed = Secret.safeParse(input.secret);
        if (!parsed.success) {
          throw validationErrorFromZod(parsed.error.issues.map((i) => ({ ...i, path: ['input', 'secret'] })));
        }
        sealed = deps.secretBox.seal(parsed.data);
      }
      const { row, created } = await repo.upsert({
        userId,
        url: input.url,
        secretCiphertext: sealed?.ciphertext ?? null,
        secretKeyId: sealed?.keyId ?? null,
        now: deps.clock.now(),
      });
      return {
        webhook: row,
        created,
        message: created ? 'Webhook registered successfully' : 'Webhook updated successfully',
      };
    },

    async delete(userId: string) {
      // One transaction: nothing can be enqueued between the delete and the cancel, and a worker
      // whose send is in flight finds the row FAILED and records nothing.
      await deps.db.transaction(async (tx) => {
        if (!(await webhooksRepository(tx).deleteByUser(userId))) throw new WebhookNotFound();
        await failPending(tx, { userId }, WEBHOOK_DELETED_REASON, deps.clock.now());
      });
      return { message: 'Webhook deleted successfully' };
    },

    /** The plaintext secret of a stored webhook, for signing at send time. */
    openSecret(row: WebhookRow): string | null {
      if (!row.secretCiphertext || !row.secretKeyId) return null;
      return deps.secretBox.open({ ciphertext: row.secretCiphertext, keyId: row.secretKeyId });
    },
  };
}

export type WebhooksService = ReturnType<typeof webhooksService>;
