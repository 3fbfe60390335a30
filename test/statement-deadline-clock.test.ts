import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Database } from '../src/db/client.js';
import { DatabaseDeadlineError } from '../src/db/deadline.js';

// The pool's shared statement deadline is postgres.js's (withDeadline returns PGlite as is): the
// shared PostgreSQL every run has (see .ci/run), whichever backend the suite tests. A statement
// stays in flight while it waits for an advisory lock the test holds, and answers once let go.
const SERVER = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const HOUR_MS = 3_600_000;
const wallNow = Date.now.bind(Date);

let database: Database;
beforeAll(async () => {
  database = await createDb({ databaseUrl: SERVER });
});
afterAll(() => database?.close());
afterEach(() => {
  vi.restoreAllMocks();
});

/** The wall clock from now on reads `offsetMs` away from real time; monotonic time is left alone. */
const setWallClock = (offsetMs: number) => vi.spyOn(Date, 'now').mockImplementation(() => wallNow() + offsetMs);

/** An advisory lock held by a transaction of the test's until release(). */
async function heldLock(): Promise<{ key: number; release: () => Promise<void> }> {
  const key = randomInt(1_000_000_000, 2_000_000_000);
  let letGo!: () => void;
  const released = new Promise<void>((resolve) => (letGo = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = database.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${key}::bigint)`);
    locked();
    await released;
  });
  await Promise.race([isLocked, holder]);
  return {
    key,
    release: async () => {
      letGo();
      await holder;
    },
  };
}

/** A statement on the deadline pool that waits for the lock; `settled` says whether it has an outcome yet. */
function waitFor(db: Database['db'], key: number) {
  const state = { settled: false };
  const outcome = db.execute(sql`select pg_advisory_xact_lock(${key}::bigint)`).then(
    () => ((state.settled = true), 'answered' as const),
    (error: unknown) => ((state.settled = true), error as Error),
  );
  return { state, outcome };
}

describe('the pool statement deadline, when the wall clock jumps', () => {
  it('fails no statement early when the clock is set forward: each keeps its own deadline', async () => {
    // The second statement falls due GAP_MS after the first; that gap is the margin for letting it go.
    const DEADLINE_MS = 4000;
    const GAP_MS = 3000;
    const db = database.withDeadline(DEADLINE_MS);
    const [first, second] = [await heldLock(), await heldLock()];
    try {
      const early = waitFor(db, first.key);
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
      const late = waitFor(db, second.key);
      setWallClock(HOUR_MS);

      const failed = await early.outcome;
      expect((failed as Error).cause).toBeInstanceOf(DatabaseDeadlineError); // drizzle wraps it
      // Had the watch compared wall-clock readings, the late one would have failed in the same pass.
      await new Promise((resolve) => setImmediate(resolve));
      expect(late.state.settled, 'the later statement failed with the first').toBe(false);
      await second.release();
      expect(await late.outcome).toBe('answered');
    } finally {
      await Promise.all([first.release(), second.release()]);
    }
  });

  it('does not stretch a deadline when the clock is set back: statements before and after it still fail in time', async () => {
    const DEADLINE_MS = 200;
    // Many times the deadline: a statement still waiting then was stretched; it is let go and answers.
    const STRETCHED_MS = 3000;
    const db = database.withDeadline(DEADLINE_MS);
    const lock = await heldLock();
    const stretched = setTimeout(() => void lock.release(), STRETCHED_MS);
    try {
      const before = waitFor(db, lock.key);
      setWallClock(-HOUR_MS);
      const after = waitFor(db, lock.key);
      for (const outcome of [await before.outcome, await after.outcome]) {
        expect(outcome, `still waiting after ${STRETCHED_MS} ms`).toBeInstanceOf(Error);
        expect((outcome as Error).cause).toBeInstanceOf(DatabaseDeadlineError);
      }
    } finally {
      clearTimeout(stretched);
      await lock.release();
    }
  });
});
