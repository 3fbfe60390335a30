import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Database } from '../src/db/client.js';
import { queryRows } from '../src/db/rows.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

let source: TestDatabaseSource;
beforeAll(async () => {
  source = await createTestDatabaseSource();
});
afterAll(() => source.destroy());

describe(`migrations (${backend})`, () => {
  it('apply once even when several processes start at the same moment', async () => {
    // source.open() migrates; on Postgres each open is its own connection pool, like a process.
    const opened: Database[] = await Promise.all([source.open(), source.open(), source.open()]);
    try {
      const [db] = opened;
      const applied = await queryRows<{ n: number }>(db!.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      const journal = (await import('../drizzle/meta/_journal.json', { with: { type: 'json' } })).default;
      expect(applied[0]!.n).toBe(journal.entries.length);
      const tables = (
        await queryRows<{ table_name: string }>(
          db!.db,
          sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
        )
      ).map((r) => r.table_name);
      expect(tables).toEqual(expect.arrayContaining(['users', 'webhooks', 'alerts', 'webhook_deliveries']));
    } finally {
      await Promise.all(opened.map((d) => d.close()));
    }
  });

  it('are idempotent: migrating an up-to-date database changes nothing', async () => {
    const database = await source.open();
    try {
      await expect(database.migrate()).resolves.toBeUndefined();
    } finally {
      await database.close();
    }
  });
});

it('createDb without DATABASE_URL is the embedded PGlite', async () => {
  const database = await createDb({});
  expect(database.kind).toBe('pglite');
  await database.close();
});
