import { z } from 'zod';
import { positiveAmount, Ticker } from '../quotes/quote-input.js';
import { SIGNALS } from '../quotes/signal.js';
import { ALERT_NOTIFY } from './alert-state.js';

export const ALERT_TYPES = ['PRICE_THRESHOLD', 'SIGNAL_CHANGE', 'PRICE_CHANGE_PERCENT'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];
export const DIRECTIONS = ['ABOVE', 'BELOW'] as const;
export type Direction = (typeof DIRECTIONS)[number];

const MAX_THRESHOLD_PERCENT = 1000;
const MAX_COOLDOWN_SECONDS = 365 * 86_400;

/** How an alert notifies; the same for every kind. expiresAt is checked against the clock by the service. */
const notificationOptions = {
  notify: z.enum(ALERT_NOTIFY, { error: `notify must be one of ${ALERT_NOTIFY.join(', ')}` }).optional(),
  cooldownSeconds: z
    .number({ error: 'cooldownSeconds must be a whole number of seconds' })
    .int('cooldownSeconds must be a whole number of seconds')
    .min(1, 'cooldownSeconds must be at least 1')
    .max(MAX_COOLDOWN_SECONDS, `cooldownSeconds must be at most ${MAX_COOLDOWN_SECONDS} (one year)`)
    .optional(),
  expiresAt: z.date().optional(),
  notifyResolved: z.boolean().optional(),
};

const required = (field: string, type: AlertType) => `${field} is required for ${type} alerts`;
const forbidden = (field: string, type: AlertType) =>
  z.undefined({ error: `${field} is not allowed for ${type} alerts` }).optional();
const oneOf = <T extends readonly [string, ...string[]]>(values: T, field: string, type: AlertType) =>
  z.enum(values, {
    error: (issue) => (issue.input === undefined ? required(field, type) : `${field} must be one of ${values.join(', ')}`),
  });

const requiredAmount = (field: string, type: AlertType, what: string, max?: number) =>
  positiveAmount(what, max, required(field, type));

export const CreateAlertInput = z.discriminatedUnion('alertType', [
  z.object({
    alertType: z.literal('PRICE_THRESHOLD'),
    ...notificationOptions,
    ticker: Ticker,
    targetPrice: requiredAmount('targetPrice', 'PRICE_THRESHOLD', 'Target price'),
    direction: oneOf(DIRECTIONS, 'direction', 'PRICE_THRESHOLD'),
    targetSignal: forbidden('targetSignal', 'PRICE_THRESHOLD'),
    thresholdPercent: forbidden('thresholdPercent', 'PRICE_THRESHOLD'),
  }),
  z.object({
    alertType: z.literal('SIGNAL_CHANGE'),
    ...notificationOptions,
    ticker: Ticker,
    targetSignal: oneOf(SIGNALS, 'targetSignal', 'SIGNAL_CHANGE'),
    targetPrice: forbidden('targetPrice', 'SIGNAL_CHANGE'),
    direction: forbidden('direction', 'SIGNAL_CHANGE'),
    thresholdPercent: forbidden('thresholdPercent', 'SIGNAL_CHANGE'),
  }),
  z.object({
    alertType: z.literal('PRICE_CHANGE_PERCENT'),
    ...notificationOptions,
    ticker: Ticker,
    thresholdPercent: requiredAmount('thresholdPercent', 'PRICE_CHANGE_PERCENT', 'Threshold percent', MAX_THRESHOLD_PERCENT),
    targetPrice: forbidden('targetPrice', 'PRICE_CHANGE_PERCENT'),
    direction: forbidden('direction', 'PRICE_CHANGE_PERCENT'),
    targetSignal: forbidden('targetSignal', 'PRICE_CHANGE_PERCENT'),
  }),
]);
export type CreateAlert = z.output<typeof CreateAlertInput>;

/** GraphQL sends an omitted optional field as absent or null; both mean "not given". */
export function withoutNulls(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null && v !== undefined));
}
