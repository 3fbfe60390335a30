import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { createUserChannelHub, SUBSCRIBER_MAX_BACKLOG, type UserChannelHub } from '../src/db/user-channel-hub.js';
import { createLogger } from '../src/logger.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

const CHANNEL = 'alertwire_hub_test';
const parse = (payload: string) => {
  const { userId, n } = JSON.parse(payload) as { userId: string; n: number };
  return [{ userId, event: n }];
};

let source: TestDatabaseSource;
let database: Database;
let hub: UserChannelHub<number>;
const logs: Record<string, unknown>[] = [];
beforeAll(async () => {
  source = await createTestDatabaseSource();
  database = await source.open();
  hub = createUserChannelHub(database, CHANNEL, parse, createLogger('debug', (line) => logs.push(JSON.parse(line))));
});
afterAll(async () => {
  await hub.close();
  await database.close();
  await source.destroy();
});

const notify = (userId: string, from: number, to: number) =>
  database.db.execute(
    sql`select pg_notify(${CHANNEL}, json_build_object('userId', ${userId}::text, 'n', n)::text) from generate_series(${from}::int, ${to}::int) as n`,
  );

describe('the per-user NOTIFY hub', () => {
  it('ends the stream of a subscriber that leaves too many events unread with SUBSCRIBER_TOO_SLOW, after what it had', async () => {
    const slow = await hub.subscribe('slow');
    const other = await hub.subscribe('other');
    await notify('slow', 1, SUBSCRIBER_MAX_BACKLOG + 20);
    await notify('other', 1, 1);
    // The other user's stream is not affected.
    expect(await other.next()).toEqual({ done: false, value: 1 });

    const read: number[] = [];
    let ended: unknown;
    try {
      for (;;) {
        const next = await slow.next();
        if (next.done) break;
        read.push(next.value);
      }
    } catch (error) {
      ended = error;
    }
    expect(ended).toMatchObject({ extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
    expect(read.length).toBeGreaterThanOrEqual(SUBSCRIBER_MAX_BACKLOG);
    expect(read.length).toBeLessThanOrEqual(SUBSCRIBER_MAX_BACKLOG + 1);
    expect(read).toEqual(Array.from({ length: read.length }, (_, i) => i + 1));

    // Subscribing again works, from the next event on.
    const again = await hub.subscribe('slow');
    await notify('slow', 7, 7);
    expect(await again.next()).toEqual({ done: false, value: 7 });
    await again.return?.();
    await other.return?.();
  });

  it('logs an unparsable payload once, quoting only a short prefix, and keeps delivering', async () => {
    const stream = await hub.subscribe('u1');
    const secret = `${'x'.repeat(40)}secret-tail-that-must-not-be-logged`;
    await database.db.execute(sql`select pg_notify(${CHANNEL}, ${`{not json ${secret}`})`);
    await notify('u1', 5, 5);
    expect(await stream.next()).toEqual({ done: false, value: 5 });

    const warnings = logs.filter((l) => l.msg === 'unparsable NOTIFY payload dropped');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', channel: CHANNEL, payloadPrefix: `{not json ${'x'.repeat(30)}` });
    expect(JSON.stringify(logs)).not.toContain('secret-tail');
    await stream.return?.();
  });

  it('ends every open stream with STREAM_INTERRUPTED when its LISTEN had to be re-established, and ends them on close', async () => {
    const own = createUserChannelHub(database, `${CHANNEL}_reconnect`, parse, createLogger('silent'));
    const stream = await own.subscribe('u2');
    const next = stream.next();
    if (backend === 'postgres') {
      // postgres.js reconnects its listening connection and sends LISTEN again; what was
      // notified in between is lost, so the stream must not go on as if nothing happened.
      await database.db.execute(
        sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike ${`listen%${CHANNEL}_reconnect%`}`,
      );
      await expect(next).rejects.toMatchObject({ extensions: { code: 'STREAM_INTERRUPTED' } });
      // A new subscriber gets events again over the new LISTEN.
      const again = await own.subscribe('u2');
      const after = again.next();
      await database.db.execute(sql`select pg_notify(${`${CHANNEL}_reconnect`}, json_build_object('userId', 'u2', 'n', 9)::text)`);
      expect(await after).toEqual({ done: false, value: 9 });
      const last = again.next();
      await own.close();
      expect(await last).toEqual({ done: true, value: undefined });
    } else {
      // PGlite is in-process: its LISTEN cannot be lost; closing the hub ends the stream.
      await own.close();
      expect(await next).toEqual({ done: true, value: undefined });
    }
  });
});
