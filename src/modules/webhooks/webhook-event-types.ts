import { WEBHOOK_PING } from '../../delivery/payload-builder.js';
import { ALERTS_RESOLVED, ALERTS_TRIGGERED } from '../alerts/alert-payloads.js';

/** The event types an endpoint can choose: GraphQL enum name → the `event` on the wire. */
const WEBHOOK_EVENT_TYPES = {
  ALERTS_TRIGGERED,
  ALERTS_RESOLVED,
  WEBHOOK_PING,
} as const;

export type WebhookEventType = keyof typeof WEBHOOK_EVENT_TYPES;
export const WEBHOOK_EVENT_TYPE_NAMES = Object.keys(WEBHOOK_EVENT_TYPES) as WebhookEventType[];

/** The stored filter (wire names; null = all, including types added later) as enum names. */
export function eventTypesOf(stored: string[] | null): WebhookEventType[] {
  if (!stored) return WEBHOOK_EVENT_TYPE_NAMES;
  return WEBHOOK_EVENT_TYPE_NAMES.filter((name) => stored.includes(WEBHOOK_EVENT_TYPES[name]));
}

export const toStoredEvents = (types: WebhookEventType[]): string[] => [...new Set(types)].map((t) => WEBHOOK_EVENT_TYPES[t]);

export const acceptsEvent = (stored: string[] | null, event: string) => stored === null || stored.includes(event);
