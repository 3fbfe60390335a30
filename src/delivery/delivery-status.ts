/** The one vocabulary of a delivery's status: the schema's enum, the queue's SQL and the metrics use it. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED', 'SKIPPED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const PENDING: DeliveryStatus = 'PENDING';
export const DELIVERED: DeliveryStatus = 'DELIVERED';
export const FAILED: DeliveryStatus = 'FAILED';
/** Recorded but never sent, because the webhook was disabled. */
export const SKIPPED: DeliveryStatus = 'SKIPPED';
