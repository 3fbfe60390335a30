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

  // A start skips the migrator when the newest migration is recorded (client.ts); a store one
  // migration behind must still get it.
  it('apply the newest migration to a database that lacks it', async () => {
    const database = await source.open();
    try {
      const count = async () => (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`))[0]!.n;
      const all = await count();
      await database.db.execute(sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`);
      expect(await count()).toBe(all - 1);
      await database.migrate();
      expect(await count()).toBe(all);
    } finally {
      await database.close();
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
