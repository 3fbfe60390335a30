import type { Config } from '../env.js';

/** At most `max` calls of one root field per identity in any sliding `windowMs`. */
export interface Budget {
  max: number;
  windowMs: number;
}

/**
 * Fields that cost more than a read: a new account, or an outbound HTTP request on the
 * caller's behalf. Keyed by field name, so a field gets its budget as soon as it exists.
 */
export const STRICT_BUDGETS: Readonly<Record<string, Budget>> = {
  register: { max: 10, windowMs: 60 * 60_000 },
  sendTestWebhook: { max: 5, windowMs: 60_000 },
  redeliverWebhookDelivery: { max: 10, windowMs: 60_000 },
  // May enqueue a whole history (WEBHOOK_MAX_DELIVERIES) of signed POSTs at once.
  redeliverFailedDeliveries: { max: 2, windowMs: 60_000 },
  // Keys are credentials: creating them in a loop is never a client's normal behaviour.
  createApiKey: { max: 10, windowMs: 60 * 60_000 },
  // Each call may enqueue a signed POST; 30 a minute still lets a client poll every 2 s.
  triggeredAlerts: { max: 30, windowMs: 60_000 },
};

/** Fields anyone may call without a key; their budget is per client address. */
export const PUBLIC_FIELDS: ReadonlySet<string> = new Set(['register']);

export interface BudgetOverrides {
  /** Replaces RATE_LIMIT_MAX / RATE_LIMIT_WINDOW. */
  defaultBudget?: Budget;
  /** Replaces the budget of a field (built-in strict ones included). */
  fieldBudgets?: Record<string, Budget>;
}

export type BudgetFor = (fieldName: string) => Budget;

export function budgetTable(config: Config, overrides: BudgetOverrides = {}): BudgetFor {
  const fallback = overrides.defaultBudget ?? { max: config.RATE_LIMIT_MAX, windowMs: config.RATE_LIMIT_WINDOW };
  const fields = { ...STRICT_BUDGETS, ...config.RATE_LIMIT_FIELDS, ...overrides.fieldBudgets };
  return (fieldName) => fields[fieldName] ?? fallback;
}
