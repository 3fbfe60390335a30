/** The one vocabulary of a delivery's status: the schema's enum, the queue's SQL and the metrics use it. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED', 'SKIPPED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const PENDING: DeliveryStatus = 'PENDING';
export const DELIVERED: DeliveryStatus = 'DELIVERED';
export const FAILED: DeliveryStatus = 'FAILED';
/** Recorded but never sent, because the webhook was disabled. */
export const SKIPPED: DeliveryStatus = 'SKIPPED';

/** Why an attempt failed, when it did: the schema's DeliveryFailureKind. */
export const FAILURE_KINDS = ['TIMEOUT', 'DNS_ERROR', 'CONNECTION_ERROR', 'BLOCKED_ADDRESS', 'REDIRECT', 'HTTP_ERROR'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];
