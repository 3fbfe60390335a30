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
  const statements = new StatementWatch(ms);
  return timed(client, 'begin', () => new Deadline(ms), commitMs, (query) => statements.within(query));
}

/**
 * `client` with its statements (`unsafe`) and its scopes (`begin` on the pool, `savepoint` in a
 * transaction) on a deadline: on the pool each statement its own, in a transaction the transaction's.
 */
function timed<C extends Sql | TransactionSql>(
  client: C,
  scope: 'begin' | 'savepoint',
  deadline: () => Deadline,
  commitMs: number,
  within: <T>(query: PromiseLike<T>) => Promise<T>,
): C {
  const unsafe = (...args: Parameters<Sql['unsafe']>) => {
    const query = client.unsafe(...args);
    return passValues(query, within(query));
  };
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') return unsafe;
      if (property === scope) {
        const open = Reflect.get(target, scope, receiver) as Open;
        return (...args: unknown[]) => scoped(open.bind(target), args, deadline(), commitMs);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

interface Watched {
  due: number;
  fail: (error: DatabaseDeadlineError) => void;
  prev: Watched | undefined;
  next: Watched | undefined;
  settled: boolean;
}

/**
 * The pool's statements in flight, each on its own deadline of `ms`. A timer and a race per
 * statement were ~2 % of a read's CPU; the deadlines here all have the same length, so they fall
 * due in the order the statements started: one list, oldest first, and one timer for its head.
 */
class StatementWatch {
  private head: Watched | undefined;
  private tail: Watched | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  within<T>(work: PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Real time, not the app's clock: tests that move their clock must not cut queries in flight.
      // Monotonic, as timers are: a wall clock set back would stretch every deadline behind this one.
      const entry: Watched = { due: performance.now() + this.ms, fail: reject, prev: this.tail, next: undefined, settled: false };
      if (this.tail) this.tail.next = entry;
      else this.head = entry;
      this.tail = entry;
      if (!this.timer) this.arm(this.ms);
      work.then(
        (value) => {
          this.remove(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.remove(entry);
          reject(error);
        },
      );
    });
  }

  private remove(entry: Watched): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = entry.next = undefined;
  }

  // Left running when the list empties (cheaper than clearing and re-arming per statement);
  // unref'd, as a statement in flight keeps the process alive by its socket.
  private arm(ms: number): void {
    this.timer = setTimeout(this.expire, Math.max(1, ms));
    this.timer.unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    while (this.head && this.head.due <= now) {
      const late = this.head;
      this.remove(late);
      late.fail(new DatabaseDeadlineError(this.ms));
    }
    if (this.head) this.arm(this.head.due - now);
  };
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
        const result = await fn(timed(tx, 'savepoint', () => deadline, commitMs, (query) => deadline.within(query)));
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

/** What drizzle awaits: the query on its deadline, `values()` (rows as arrays) passed through. */
function passValues<T>(query: ReturnType<Sql['unsafe']>, timed: Promise<T>): Promise<T> & { values(): Promise<T> } {
  const withValues = timed as Promise<T> & { values(): Promise<T> };
  withValues.values = () => {
    query.values();
    return withValues;
  };
  return withValues;
}
