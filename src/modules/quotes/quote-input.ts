import { z } from 'zod';

const MAX_PRICE = 1_000_000_000;
const TICKER_PATTERN = /^[A-Z0-9.-]{1,10}$/;

export const Ticker = z
  .string({ error: 'Ticker is required' })
  .regex(TICKER_PATTERN, "Ticker must be an upper-case symbol of 1–10 letters, digits, '.' or '-'");

/** A positive, finite amount; `what` names it in the messages. */
export const positiveAmount = (what: string, max = MAX_PRICE, requiredMessage = `${what} is required`) =>
  z
    .number({ error: (issue) => (issue.input === undefined ? requiredMessage : `${what} must be a finite number`) })
    .refine(Number.isFinite, `${what} must be a finite number`)
    .refine((n) => n > 0, `${what} must be greater than 0`)
    .refine((n) => n <= max, `${what} must be at most ${withThousands(max)}`);

// 1000000000 → 1,000,000,000. Not toLocaleString: its first call loads ICU's number formatting,
// ~30 ms of every start (these messages are built when the module loads).
const withThousands = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

export const QuotePoint = z.object({
  ticker: Ticker,
  price: positiveAmount('Price'),
  asOf: z.date().optional(),
});
export type QuotePointInput = z.input<typeof QuotePoint>;

/** Clocks differ a little; a point further ahead than this would pin the latest price. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

export function futureAsOfProblem(asOf: Date, now: Date): string | null {
  return asOf.getTime() > now.getTime() + MAX_FUTURE_SKEW_MS ? 'asOf must not be in the future' : null;
}
