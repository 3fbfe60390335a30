import { z } from 'zod';
import type { Database } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { createUserChannelHub, type UserChannelHub } from '../../db/user-channel-hub.js';
import { ALERT_TRIGGERED_CHANNEL, type TriggeredNotice } from './evaluation.repository.js';

const NoticesSchema = z.array(z.object({
  userId: z.string(),
  alertId: z.string(),
  currentValue: z.string(),
  details: z.string(),
  evaluatedAt: z.string(),
  deliveryId: z.string().nullable(),
}));

export type AlertEventHub = UserChannelHub<TriggeredNotice>;

export function createAlertEventHub(database: Pick<Database, 'listen'>, logger: Logger): AlertEventHub {
  return createUserChannelHub(
    database,
    ALERT_TRIGGERED_CHANNEL,
    (payload) => NoticesSchema.parse(JSON.parse(payload)).map((notice) => ({ userId: notice.userId, event: notice })),
    logger,
  );
}
