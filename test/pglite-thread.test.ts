import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client.js';
import { startEmbedded } from '../src/db/embedded-start.js';
import { spawnPgliteThread } from '../src/db/pglite-thread-start.js';
import { isUniqueViolation } from '../src/db/errors.js';
import { queryRows } from '../src/db/rows.js';
import { users } from '../src/db/tables.js';
import { PGLITE_TEMPLATE_DIR } from '../src/package-files.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

// What `npm start` runs on the embedded database: PGlite in a worker thread, from the template.
async function openThreaded(dataDir: string) {
  const database = await createDb({ dataDir, templateDir: PGLITE_TEMPLATE_DIR, thread: true });
  await database.migrate();
  return database;
}

const user = (email: string) => ({ name: 'T', email, apiKeyHash: email, createdAt: new Date() });

describe('the embedded database in a worker thread', () => {
  it('queries, keeps data across a restart, and reports constraint errors with their code', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-thread-'));
    dirs.push(dataDir);
    const first = await openThreaded(dataDir);
    await first.db.insert(users).values(user('a@example.com'));
    const duplicate = await first.db.insert(users).values(user('a@example.com')).catch((e: unknown) => e);
    expect(isUniqueViolation(duplicate)).toBe(true);
    await first.close();

    const second = await openThreaded(dataDir);
    try {
      const rows = await second.db.select({ email: users.email }).from(users).where(eq(users.email, 'a@example.com'));
      expect(rows).toEqual([{ email: 'a@example.com' }]);
    } finally {
      await second.close();
    }
  });

  it('rolls a failed transaction back and delivers NOTIFY to listeners', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-thread-'));
    dirs.push(dataDir);
    const database = await openThreaded(dataDir);
    try {
      const failed = await database.db
        .transaction(async (tx) => {
          await tx.insert(users).values(user('rolled@example.com'));
          throw new Error('abort');
        })
        .catch((e: Error) => e.message);
      expect(failed).toBe('abort');
      const [count] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from users`);
      expect(count!.n).toBe(0);

      const received: string[] = [];
      const heard = new Promise<void>((resolve) => {
        void database.listen('thread_test', (payload) => {
          received.push(payload);
          resolve();
        }).then(() => database.db.execute(sql`select pg_notify('thread_test', 'hello')`));
      });
      await heard;
      expect(received).toEqual(['hello']);
    } finally {
      await database.close();
    }
  });

  // npm start starts the thread before the app loads and adopts it later (src/main.ts): a thread
  // that failed in between must fail the start with its reason, not end the process or hang.
  it('a thread that failed before it was adopted fails the open and releases the folder', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-thread-'));
    dirs.push(dataDir);
    const notAStore = path.join(dataDir, 'not-a-store');
    writeFileSync(notAStore, 'x');
    const started = startEmbedded({ dataDir: path.join(dataDir, 'data'), templateDir: notAStore });
    expect(await started.thread.stopped).toBeInstanceOf(Error);
    await expect(createDb({ started })).rejects.toThrow();
    expect(existsSync(path.join(dataDir, 'data', 'pgdata.lock'))).toBe(false);
  });

  it('a thread spawned before its folder is known (npm start) serves the store it is then told to open', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-thread-'));
    dirs.push(dataDir);
    const thread = spawnPgliteThread();
    await new Promise((resolve) => thread.worker.once('online', resolve));
    const database = await createDb({ started: startEmbedded({ dataDir, templateDir: PGLITE_TEMPLATE_DIR, thread }) });
    try {
      await database.migrate();
      await database.db.insert(users).values(user('early@example.com'));
      const rows = await database.db.select({ email: users.email }).from(users);
      expect(rows).toEqual([{ email: 'early@example.com' }]);
    } finally {
      await database.close();
    }
  });

  it('a thread never told what to open answers with that, and the failed open terminates it', async () => {
    const thread = spawnPgliteThread();
    await expect(createDb({ started: { folder: undefined, thread } })).rejects.toThrow('the embedded database was not opened');
    // Ended by the client's close (terminate), not by a crash: a crash would resolve with its Error.
    expect(await thread.stopped).toBeUndefined();
  });
});
