import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseDeadlineError } from '../src/db/deadline.js';
import { queryRows } from '../src/db/rows.js';
import { movableClock } from './helpers/clock.js';
import { createOutageFixture, type OutageFixture } from './helpers/outage.js';
import { eventually } from './helpers/receiver.js';
import type { TestApp } from './helpers/test-app.js';
import { timed } from './helpers/timed.js';

// A PostgreSQL of this file's own, frozen with SIGSTOP: it keeps its connections open and answers
// nothing. On the PGlite run too: an in-process PGlite cannot stall, and this is the server driver's path.
const LEASE_MS = 20_000;
const REQUEST_DEADLINE_MS = 1000;
const clock = movableClock();
let fixture: OutageFixture;
beforeAll(async () => {
  fixture = await createOutageFixture({
    clock,
    env: {
      // Below the default 1.5 s: the 2 s bound keeps a margin for a loaded machine's timer lag.
      DATABASE_REQUEST_TIMEOUT_MS: String(REQUEST_DEADLINE_MS),
      // One send at a time per endpoint: the second delivery waits for the first, across the freeze.
      DELIVERY_ENDPOINT_CONCURRENCY: '1',
      DELIVERY_LEASE_MS: String(LEASE_MS),
      WEBHOOK_TIMEOUT_MS: '10000',
    },
  });
});
afterAll(() => fixture?.close());

const WEBHOOK = `{ webhook { url } }`;
const REGISTER_LATE = `mutation { register(input: { name: "Late", email: "late@example.com" }) { apiKey } }`;
const PING = `mutation { sendTestWebhook { ... on SendTestWebhookSuccess { delivery { id } } } }`;

/** Once no other backend is in a transaction or a statement, whatever was in flight has ended. */
async function settled(t: TestApp): Promise<void> {
  await eventually(async () => {
    const busy = await queryRows(
      t.database.db,
      sql`select pid from pg_stat_activity where pid <> pg_backend_pid() and backend_type = 'client backend' and state <> 'idle'`,
    );
    expect(busy).toEqual([]);
  });
}

describe('a PostgreSQL that stops answering (SIGSTOP)', () => {
  it('answers 503 + Retry-After within 2 s (ready: within 1 s, with every connection stuck), serves again after SIGCONT and delivers what was confirmed', async () => {
    const { pg, t, receiver, letGo } = fixture;
    const apiKey = await fixture.subscriber();
    const first: string = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;
    await receiver.waitFor(1);
    const second: string = (await t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id;

    pg.freeze();
    try {
      letGo(); // the first attempt ends while its result cannot be written

      // Before: the read waited for the whole freeze. The key may come from the key cache; the webhook cannot.
      const read = await timed(() => t.gql(WEBHOOK, { apiKey }));
      expect(read.ms).toBeLessThan(2000);
      expect(read.value.status).toBe(503);
      expect(read.value.headers.get('retry-after')).toBe('5');
      expect(read.value.body.errors![0]!.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: 5 });

      // More reads than the pool has connections, all stuck: /ready still answers in time.
      const stuck = Array.from({ length: 12 }, () => timed(() => t.gql(WEBHOOK, { apiKey })));
      const ready = await timed(async () => t.app.fetch('http://127.0.0.1/ready'));
      expect(ready.ms).toBeLessThan(1000);
      expect(ready.value.status).toBe(503);
      expect(await ready.value.json()).toEqual({ status: 'unavailable' });
      for (const { ms, value } of await Promise.all(stuck)) {
        expect(ms).toBeLessThan(2000);
        expect(value.status).toBe(503);
      }

      // A transaction fails in time too, and (below) leaves nothing behind.
      const register = await timed(() => t.gql(REGISTER_LATE));
      expect(register.ms).toBeLessThan(2000);
      expect(register.value.status).toBe(503);
      expect(register.value.body.errors![0]!.extensions!.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(register.value.body)).not.toMatch(/PostgreSQL|127\.0\.0\.1/);
    } finally {
      pg.thaw();
    }

    await eventually(async () => expect((await t.app.fetch('http://127.0.0.1/ready')).status).toBe(200));
    expect((await t.gql(WEBHOOK, { apiKey })).body).toEqual({ data: { webhook: { url: receiver.url } } });
    // The register cut by its deadline ran nothing once the server answered: the email is still free.
    await settled(t);
    expect((await t.gql(REGISTER_LATE)).body.data?.register.apiKey).toEqual(expect.any(String));

    // The first attempt's result was lost with the connection: its lease runs out and it is sent again.
    clock.advance(LEASE_MS + 1000);
    await eventually(async () => {
      const res = await t.gql(`{ webhookDeliveries { deliveries { id status } } }`, { apiKey });
      expect(new Set(res.body.data!.webhookDeliveries.deliveries)).toEqual(
        new Set([
          { id: first, status: 'DELIVERED' },
          { id: second, status: 'DELIVERED' },
        ]),
      );
    });
    expect(new Set(receiver.requests.map((r) => r.headers['x-webhook-delivery']))).toEqual(new Set([first, second]));
  });

  it('gives each statement on the pool its own whole deadline, however long the ones before it have waited', async () => {
    const { pg, t } = fixture;
    const db = t.database.withDeadline(300);
    const statement = (n: number) => timed(() => db.execute(sql`select ${n}`).then(() => null, (error: unknown) => error as Error));
    pg.freeze();
    try {
      const first = statement(1);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const second = statement(2); // falls due 150 ms after the first: it must not expire with it
      for (const { ms, value } of [await first, await second]) {
        expect(value?.cause).toBeInstanceOf(DatabaseDeadlineError); // drizzle wraps it
        expect(ms).toBeGreaterThanOrEqual(298); // Date.now()'s millisecond
        expect(ms).toBeLessThan(2000);
      }
    } finally {
      pg.thaw();
    }
    await settled(t);
  });

  it('rolls back a transaction that missed its deadline once the server answers, even when its callback swallowed the error', async () => {
    const { pg, t } = fixture;
    await t.database.db.execute(sql`create table stall_probe (n int)`);
    let swallowed: unknown;
    const work = t.database.withDeadline(300).transaction(async (tx) => {
      await tx.execute(sql`insert into stall_probe values (1)`);
      pg.freeze();
      swallowed = await tx.execute(sql`insert into stall_probe values (2)`).catch((error: unknown) => error);
    });
    try {
      await expect(work).rejects.toBeInstanceOf(DatabaseDeadlineError);
      expect((swallowed as Error).cause).toBeInstanceOf(DatabaseDeadlineError); // drizzle wraps it
    } finally {
      pg.thaw();
    }
    await settled(t);
    expect(await queryRows(t.database.db, sql`select n from stall_probe`)).toEqual([]);
    // The pool works again, and so do transactions.
    await t.database.withDeadline(300).transaction((tx) => tx.execute(sql`insert into stall_probe values (3)`));
    expect(await queryRows(t.database.db, sql`select n from stall_probe`)).toEqual([{ n: 3 }]);
  });

  it('waits for a COMMIT slower than the request deadline: no caller is told "unavailable" about a committed write', async () => {
    const { t } = fixture;
    await t.database.db.execute(sql`create table slow_commit (n int)`);
    await t.database.db.execute(
      sql`create function slow_commit_sleep() returns trigger language plpgsql as $$ begin perform pg_sleep(0.8); return null; end $$`,
    );
    // Runs at COMMIT: the statements answer at once, the COMMIT takes 0.8 s.
    await t.database.db.execute(
      sql`create constraint trigger slow_commit_at_commit after insert on slow_commit deferrable initially deferred for each row execute function slow_commit_sleep()`,
    );
    await t.database.withDeadline(300).transaction((tx) => tx.execute(sql`insert into slow_commit values (1)`));
    expect(await queryRows(t.database.db, sql`select n from slow_commit`)).toEqual([{ n: 1 }]);
  });
});
