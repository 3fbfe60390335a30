import type { Sql, TransactionSql } from 'postgres';

/** A round trip to PostgreSQL that got no answer in time; `isDatabaseUnavailable` knows its code. */
export class DatabaseDeadlineError extends Error {
  override name = 'DatabaseDeadlineError';
  readonly code = 'DATABASE_DEADLINE';
  constructor(ms: number) {
    super(`PostgreSQL did not answer within ${ms} ms`);
  }
}

/** The clock of one statement or one transaction: the first round trip past `ms` expires it for good. */
class Deadline {
  expired = false;
  /** Rejects when the deadline expires, so everything waiting on this transaction stops waiting. */
  readonly expiry: Promise<never>;
  private expire!: (error: DatabaseDeadlineError) => void;

  constructor(private readonly ms: number) {
    this.expiry = new Promise<never>((_, reject) => (this.expire = reject));
    this.expiry.catch(() => {});
  }

  check(): void {
    if (this.expired) throw new DatabaseDeadlineError(this.ms);
  }

  /** Waits for one round trip; past `ms` it rejects, and so does every later one. */
  async within<T>(work: PromiseLike<T>): Promise<T> {
    this.check();
    // Real time, not the app's clock: tests that move their clock must not cut queries in flight.
    const timer = setTimeout(() => {
      this.expired = true;
      this.expire(new DatabaseDeadlineError(this.ms));
    }, this.ms);
    try {
      return await Promise.race([work, this.expiry]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Settles with `work`, or rejects with a DatabaseDeadlineError after `ms`. */
export function answerWithin<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  return new Deadline(ms).within(work);
}

/**
 * postgres.js waits for ever for a server that accepted the connection and never answers (a
 * frozen process, a network blackhole); statement_timeout is the server's own and cannot help.
 * This client fails each round trip drizzle makes — a statement, a transaction's BEGIN, its
 * COMMIT — after `ms`. A transaction that missed one before its COMMIT is rolled back once the
 * server answers, never committed. Its COMMIT waits up to `commitMs` instead: once sent, the
 * transaction may commit whatever the client does, and a caller told "unavailable, try again"
 * about a committed write would retry it into a duplicate. An abandoned statement is not cancelled (postgres.js's cancel() strands the
 * pool slot of a query whose connection is still opening): it runs if the server answers later,
 * so its outcome is unknown, as with any lost connection.
 */
export function withDeadline(client: Sql, ms: number, commitMs: number): Sql {
  return timed(client, 'begin', () => new Deadline(ms), commitMs);
}

/**
 * `client` with its statements (`unsafe`) and its scopes (`begin` on the pool, `savepoint` in a
 * transaction) on a deadline: a new one per call on the pool, the transaction's own inside it.
 */
function timed<C extends Sql | TransactionSql>(client: C, scope: 'begin' | 'savepoint', deadline: () => Deadline, commitMs: number): C {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (...args: Parameters<Sql['unsafe']>) => timedQuery(target.unsafe(...args), deadline());
      }
      if (property === scope) {
        const open = Reflect.get(target, scope, receiver) as Open;
        return (...args: unknown[]) => scoped(open.bind(target), args, deadline(), commitMs);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

type Scope = (tx: TransactionSql) => unknown;
// biome-ignore lint/suspicious/noExplicitAny: begin's and savepoint's overloads get the caller's own arguments
type Open = (...args: any[]) => PromiseLike<unknown>;

/**
 * `begin([options,] fn)` or `savepoint([name,] fn)`: BEGIN (or SAVEPOINT), the callback's
 * statements, and COMMIT or ROLLBACK are each a round trip on one deadline.
 */
async function scoped(open: Open, args: unknown[], deadline: Deadline, commitMs: number): Promise<unknown> {
  const fn = args.pop() as Scope;
  let entered!: () => void;
  let left!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const done = new Promise<void>((resolve) => (left = resolve));
  const work = Promise.resolve(
    open(...args, async (tx: TransactionSql) => {
      entered();
      try {
        deadline.check(); // BEGIN answered too late: the caller has gone, run nothing
        const result = await fn(timed(tx, 'savepoint', () => deadline, commitMs));
        deadline.check(); // a statement went unanswered: roll back even if the callback carried on
        return result;
      } finally {
        left();
      }
    }),
  );
  work.catch(() => {});
  await deadline.within(Promise.race([inside, work]));
  await Promise.race([done, work, deadline.expiry]);
  deadline.check();
  // The callback is over: what is left is its COMMIT (or ROLLBACK), on the longer deadline.
  return answerWithin(work, commitMs);
}

/** What drizzle awaits: the query on the deadline, `values()` (rows as arrays) passed through. */
function timedQuery(query: ReturnType<Sql['unsafe']>, deadline: Deadline) {
  const timed = Object.assign(deadline.within(query), {
    values() {
      query.values();
      return timed;
    },
  });
  return timed;
}
