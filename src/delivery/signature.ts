import { createHmac } from 'node:crypto';

export const STANDARD_WEBHOOKS_PREFIX = 'whsec_';

/**
 * Standard Webhooks libraries strip `whsec_` and decode the rest as strict base64: a `whsec_`
 * secret with any other rest signs deliveries that no receiver's library can verify.
 */
export function isStandardWebhooksSecret(secret: string): boolean {
  if (!secret.startsWith(STANDARD_WEBHOOKS_PREFIX)) return false;
  const base64 = secret.slice(STANDARD_WEBHOOKS_PREFIX.length);
  return base64.length > 0 && Buffer.from(base64, 'base64').toString('base64') === base64;
}

/** The Standard Webhooks key: the base64-decoded part of a `whsec_` secret, else the UTF-8 bytes. */
function standardWebhooksKey(secret: string): Buffer {
  if (secret.startsWith(STANDARD_WEBHOOKS_PREFIX)) {
    const decoded = Buffer.from(secret.slice(STANDARD_WEBHOOKS_PREFIX.length), 'base64');
    if (decoded.length > 0) return decoded;
  }
  return Buffer.from(secret, 'utf8');
}

/** `sha256=<hex>` over the raw body, the format of GitHub's X-Hub-Signature-256. */
function hubSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', Buffer.from(secret, 'utf8')).update(body, 'utf8').digest('hex')}`;
}

/** `v1,<base64>` over `id.timestamp.body` (https://www.standardwebhooks.com). */
function standardWebhooksSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', standardWebhooksKey(secret)).update(`${id}.${timestampSeconds}.${body}`, 'utf8');
  return `v1,${mac.digest('base64')}`;
}

/**
 * The signature headers of one attempt; none without a secret. During a rotation's overlap the
 * previous secrets also sign `webhook-signature` (Standard Webhooks allows several, space
 * separated, so a receiver still on the old secret verifies); `X-Webhook-Signature` holds one
 * value and uses the current secret.
 */
export function signatureHeaders(
  secret: string | null,
  /** webhook-id: the message's id, the same when it is sent again. */
  messageId: string,
  sentAt: Date,
  body: string,
  previousSecrets: string[] = [],
): Record<string, string> {
  if (!secret) return {};
  const timestamp = Math.floor(sentAt.getTime() / 1000);
  return {
    'x-webhook-signature': hubSignature(secret, body),
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': [secret, ...previousSecrets]
      .map((key) => standardWebhooksSignature(key, messageId, timestamp, body))
      .join(' '),
  };
}
