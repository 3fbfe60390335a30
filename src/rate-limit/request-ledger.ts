import { codedError } from '../errors.js';
import type { Charge, FieldCall } from './rate-limiter.js';

type BudgetState = Omit<Charge, 'refusal'>;

/**
 * The one record of a request's root fields: charges each against its budget, keeps the most
 * constrained budget for the X-RateLimit-* headers, and records which fields ran and how the
 * others failed, from which the HTTP status is decided (useStatusCodes).
 */
export class RequestLedger {
  private tightest: BudgetState | undefined;
  private retryAfterSeconds = 0;
  private succeeded = 0;
  private readonly failureCodes: string[] = [];
  private operation: Promise<void> | undefined;

  constructor(private readonly limiter: { charge(call: FieldCall): Promise<Charge> }) {}

  /** Spends one call of the field's budget; throws RATE_LIMITED when it is spent. */
  async charge(call: FieldCall): Promise<void> {
    const { refusal, ...state } = await this.limiter.charge(call);
    if (!this.tightest || isTighter(state, this.tightest)) this.tightest = state;
    if (refusal === undefined) return;
    const retryAfter = Math.max(1, state.resetSeconds);
    this.retryAfterSeconds = Math.max(this.retryAfterSeconds, retryAfter);
    this.failureCodes.push('RATE_LIMITED');
    throw codedError('RATE_LIMITED', `${refusal}; retry in ${retryAfter} s`, { retryAfter });
  }

  /**
   * Charges the calls once per request, in order, stopping at the first refusal, which every
   * caller then gets: for an operation whose root fields must all be within budget before any
   * of them runs (root-field-charges.plugin.ts).
   */
  chargeOperation(calls: () => FieldCall[]): Promise<void> {
    this.operation ??= (async () => {
      for (const call of calls()) await this.charge(call);
    })();
    return this.operation;
  }

  fieldSucceeded(): void {
    this.succeeded += 1;
  }

  fieldFailed(error: unknown): void {
    const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
    this.failureCodes.push(typeof code === 'string' ? code : 'INTERNAL');
  }

  /** The codes of the failed root fields when none succeeded, else null. */
  get failuresWhenNothingRan(): string[] | null {
    return this.succeeded === 0 && this.failureCodes.length > 0 ? [...this.failureCodes] : null;
  }

  get retryAfter(): number {
    return this.retryAfterSeconds;
  }

  /** X-RateLimit-* for the most constrained field charged, or nothing when no field was. */
  get headers(): Record<string, string> {
    if (!this.tightest) return {};
    const [limit, remaining, reset] = RATE_LIMIT_HEADERS;
    return {
      [limit]: String(this.tightest.limit),
      [remaining]: String(this.tightest.remaining),
      [reset]: String(this.tightest.resetSeconds),
    };
  }
}

/** The headers a client reads its budget from (Retry-After comes with a 429). */
export const RATE_LIMIT_HEADERS = ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'] as const;

function isTighter(a: BudgetState, b: BudgetState): boolean {
  if (a.remaining !== b.remaining) return a.remaining < b.remaining;
  return a.limit < b.limit;
}
