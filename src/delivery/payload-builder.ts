export const WEBHOOK_PING = 'webhook.ping';

/** What the delivery wing sends; the modules build it and the wing never looks inside. */
export interface BuiltPayload {
  event: string;
  /** The exact bytes every attempt and redelivery sends. */
  body: string;
  summary: string;
}

/** The `webhook.ping` body sent by sendTestWebhook. */
export function buildPingPayload(userId: string, sentAt: Date): BuiltPayload {
  const body = JSON.stringify({ event: WEBHOOK_PING, user_id: userId, sent_at: sentAt.toISOString() });
  return { event: WEBHOOK_PING, body, summary: 'Test ping' };
}
