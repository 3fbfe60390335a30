import type { Clock } from '../../clock.js';
import type { Db } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { EndpointDisabled, EndpointUnusable, type ResolveEndpoint } from '../../delivery/delivery-worker.js';
import type { SecretBox } from './secret-box.js';
import { webhooksRepository } from './webhooks.repository.js';

const UNREADABLE_SECRET =
  'The webhook secret cannot be decrypted with the configured keys (SECRET_ENCRYPTION_KEY / SECRET_ENCRYPTION_KEY_PREVIOUS)';

/** For the worker: where a user's deliveries go now and which secrets sign them (the previous one during its overlap). */
export function webhookEndpoints(deps: { db: Db; clock: Clock; secretBox: SecretBox; logger: Logger }): ResolveEndpoint {
  const repo = webhooksRepository(deps.db);
  const open = (ciphertext: string | null, keyId: string | null): string | null => {
    if (!ciphertext || !keyId) return null;
    try {
      return deps.secretBox.open({ ciphertext, keyId });
    } catch (error) {
      // No retry can fix this: the keys it was sealed with are not configured.
      throw new EndpointUnusable(UNREADABLE_SECRET, { cause: error });
    }
  };
  // The previous secret only adds a signature: losing it must not stop deliveries signed with the current one.
  const openPrevious = (userId: string, ciphertext: string | null, keyId: string | null): string | null => {
    try {
      return open(ciphertext, keyId);
    } catch (error) {
      deps.logger.warn('signing with the current webhook secret only: the previous one cannot be decrypted', { userId, error });
      return null;
    }
  };
  return async (userId) => {
    const webhook = await repo.findByUser(userId);
    if (!webhook) return null;
    if (!webhook.isActive) throw new EndpointDisabled(webhook.disabledReason);
    const secret = open(webhook.secretCiphertext, webhook.secretKeyId);
    const overlapping = webhook.previousSecretExpiresAt !== null && webhook.previousSecretExpiresAt > deps.clock.now();
    const previous = secret && overlapping ? openPrevious(userId, webhook.previousSecretCiphertext, webhook.previousSecretKeyId) : null;
    return { url: webhook.url, secret, previousSecrets: previous ? [previous] : [], createdAt: webhook.createdAt };
  };
}
