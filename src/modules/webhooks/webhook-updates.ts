import { sql } from 'drizzle-orm';
import type { Database, Db } from '../../db/client.js';
import { isUuid } from '../../db/rows.js';
import type { Logger } from '../../logger.js';
import { createUserChannelHub, type UserChannelHub } from '../../db/user-channel-hub.js';

/** Every change of a user's webhook (set, disabled, enabled, secret rotated); the payload is the user id. */
const WEBHOOK_UPDATED_CHANNEL = 'alertwire_webhook_updated';

/** Publishes inside the caller's transaction, so listeners hear of the change once it is committed. */
export async function notifyWebhookUpdated(tx: Db, userId: string): Promise<void> {
  await tx.execute(sql`select pg_notify(${WEBHOOK_UPDATED_CHANNEL}, ${userId})`);
}

/** A signal (the user id) per change of a user's webhook, from any process. */
export type WebhookUpdates = UserChannelHub<string>;

export function createWebhookUpdates(database: Pick<Database, 'listen'>, logger: Logger): WebhookUpdates {
  const parse = (payload: string) => {
    if (!isUuid(payload)) throw new Error('not a user id');
    return [{ userId: payload, event: payload }];
  };
  return createUserChannelHub(database, WEBHOOK_UPDATED_CHANNEL, parse, logger);
}
