import { randomBytes } from 'node:crypto';
import { count, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { queryRows } from '../src/db/rows.js';
import { alerts, quoteChanges, webhookDeliveries } from '../src/db/tables.js';
import { entriesPerAlert, expectedCrossings, scenario, type Scenario } from './helpers/crossings.js';
import { freePort } from './helpers/ports.js';
import { startProcess, type RunningProcess } from './helpers/processes.js';
import { ADMIN_KEY, pushAlertSteps } from './helpers/push-alerts.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestApp } from './helpers/test-app.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

/** Every delivery received, by id (a retry repeats an id), and the crossings per alert it carried. */
function collect(receiver: Receiver) {
  const bodies = new Map<string, string>();
  for (const r of receiver.requests) bodies.set(String(r.headers['x-webhook-delivery']), r.body);
  return { bodies, perAlert: entriesPerAlert(bodies) };
}

/** Asserts that the alerts of `ids` (in scenario order) were notified exactly their computed crossings. */
function expectCrossingsDelivered(s: Scenario, ids: string[], perAlert: Map<string, number>) {
  const expected = expectedCrossings(s);
  expect(expected.reduce((a, b) => a + b, 0)).toBeGreaterThan(s.alerts.length); // the scenario really crosses
  expect(ids.map((id) => perAlert.get(id) ?? 0)).toEqual(expected);
}

if (backend === 'postgres') {
  describe('several API and worker processes on one PostgreSQL', () => {
    let source: TestDatabaseSource;
    let database: Database;
    let receiver: Receiver;
    const processes: RunningProcess[] = [];
    const common: Record<string, string> = {};

    beforeAll(async () => {
      source = await createTestDatabaseSource();
      database = await source.open();
      receiver = await createReceiver();
      Object.assign(common, {
        DATABASE_URL: source.url!,
        SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        ADMIN_API_KEY: ADMIN_KEY,
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        WEBHOOK_MAX_DELIVERIES: '10000',
        WEBHOOK_RETRY_BASE_MS: '50',
        RATE_LIMIT_MAX: '1000000',
        // Registrations come from one address; the header gives each its own (see README, Limits).
        TRUST_PROXY: 'true',
        DELIVERY_WORKER: 'false',
      });
    }, 60_000);
    afterAll(async () => {
      await Promise.all(processes.map((p) => p.stop()));
      await receiver.close();
      await database.close();
      await source.destroy();
    });

    const api = (port: number) => async (query: string, variables: Record<string, unknown> = {}, apiKey = ADMIN_KEY, headers = {}) => {
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey, ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: Record<string, any>; errors?: unknown };
      if (!body.data) throw new Error(JSON.stringify(body));
      return body.data;
    };
    const settled = () =>
      eventually(async () => {
        const [row] = await database.db.select({ n: count() }).from(quoteChanges);
        expect(row!.n).toBe(0);
      }, 60_000);

    it('notifies exactly the crossings of 1,000 price changes over 100 alerts of 20 users, none twice', async () => {
      const ports = [await freePort(), await freePort()];
      processes.push(
        ...(await Promise.all([
          startProcess('src/main.ts', { ...common, PORT: String(ports[0]) }, 'Alertwire is listening'),
          startProcess('src/main.ts', { ...common, PORT: String(ports[1]) }, 'Alertwire is listening'),
          startProcess('src/worker-main.ts', common, 'Alertwire delivery worker is running'),
          startProcess('src/worker-main.ts', common, 'Alertwire delivery worker is running'),
        ])),
      );
      const [a, b] = ports.map(api) as [ReturnType<typeof api>, ReturnType<typeof api>];
      const s = scenario({ users: 20, alertsPerUser: 5, tickers: 10, changes: 1000 });
      const upsert = `mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`;
      await a(upsert, { input: s.tickers.map((ticker) => ({ ticker, price: 100 })) });
      await settled();

      // Each user is set up in a lane of its own, the lanes at once.
      const ids: string[] = new Array(s.alerts.length);
      await Promise.all(
        Array.from({ length: 20 }, async (_, user) => {
          const registered = await a(
            `mutation($input: RegisterInput!) { register(input: $input) { apiKey } }`,
            { input: { name: `Load ${user}`, email: `load-${user}-${randomBytes(3).toString('hex')}@example.com` } },
            '',
            { 'x-forwarded-for': `10.0.0.${user + 1}` },
          );
          const key = registered.register.apiKey as string;
          await b(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, { input: { url: receiver.url } }, key);
          for (const [index, spec] of s.alerts.entries()) {
            if (spec.user !== user) continue;
            const created = await (index % 2 ? a : b)(
              `mutation($input: CreateAlertInput!) { createAlert(input: $input) { ... on CreateAlertSuccess { alert { id } } } }`,
              { input: { alertType: 'PRICE_THRESHOLD', ticker: spec.ticker, targetPrice: spec.targetPrice, direction: spec.direction } },
              key,
            );
            ids[index] = created.createAlert.alert.id;
          }
        }),
      );

      // One lane per ticker keeps each ticker's changes in order; the lanes run at once, each
      // change going to either API process.
      await Promise.all(
        s.tickers.map(async (ticker, lane) => {
          const prices = s.lanes.get(ticker)!;
          for (let i = 0; i < prices.length; i++) {
            await ((lane + i) % 2 ? a : b)(upsert, { input: [{ ticker, price: prices[i] }] });
          }
        }),
      );
      await settled();
      const enqueued = await database.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries);
      await eventually(() => expect(collect(receiver).bodies.size).toBe(enqueued.length), 60_000);

      const { bodies, perAlert } = collect(receiver);
      expect([...bodies.keys()].sort()).toEqual(enqueued.map((d) => d.id).sort());
      expectCrossingsDelivered(s, ids, perAlert);
      const stored = new Map((await database.db.select().from(alerts)).map((row) => [row.id, row.triggerCount]));
      expect(ids.map((id) => stored.get(id))).toEqual(expectedCrossings(s));
    }, 180_000);

    it('still notifies a crossing whose evaluating process was killed (SIGKILL) after the quote committed', async () => {
      await Promise.all(processes.splice(0).map((p) => p.stop()));
      receiver.requests.length = 0;
      const port = await freePort();
      const server = await startProcess('src/main.ts', { ...common, PORT: String(port) }, 'Alertwire is listening');
      processes.push(server);
      const call = api(port);
      const steps = { upsert: (price: number) => call(`mutation { upsertQuotes(input: [{ ticker: "KILL", price: ${price} }]) { count } }`) };
      await steps.upsert(10);
      await settled();
      const user = await call(`mutation { register(input: { name: "K", email: "kill-${randomBytes(3).toString('hex')}@example.com" }) { apiKey user { id } } }`, {}, '', { 'x-forwarded-for': '10.9.9.9' });
      const key = user.register.apiKey as string;
      const userId = user.register.user.id as string;
      await call(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, { input: { url: receiver.url } }, key);
      const created = await call(
        `mutation { createAlert(input: { alertType: PRICE_THRESHOLD, ticker: "KILL", targetPrice: 20, direction: ABOVE }) { ... on CreateAlertSuccess { alert { id } } } }`,
        {},
        key,
      );
      const alertId = created.createAlert.alert.id as string;

      // Hold the alert's row: the server's evaluation claims the change, then waits on this lock.
      const holder = postgres(source.url!, { max: 1, onnotice: () => {} });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked!: () => void;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const holding = holder.begin(async (tx) => {
        await tx`select id from alerts where id = ${alertId} for update`;
        locked();
        await released;
      });
      await isLocked;
      try {
        await steps.upsert(25); // committed: the answer came after the commit
        // A row lock wait shows as a backend waiting on a Lock (its holder's transaction id).
        await eventually(async () => {
          const [waiting] = await queryRows<{ n: number }>(
            database.db,
            sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
          );
          expect(waiting!.n).toBe(1);
        });
        server.child.kill('SIGKILL');
        await server.exited;
      } finally {
        release();
        await holding;
        await holder.end();
      }
      // The killed process's transaction rolled back: the change is still there, nothing was enqueued.
      await eventually(async () => {
        const [row] = await database.db.select({ n: count() }).from(quoteChanges);
        expect(row!.n).toBe(1);
      });
      expect(await database.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.userId, userId))).toEqual([]);

      processes.push(await startProcess('src/worker-main.ts', common, 'Alertwire delivery worker is running'));
      const [request] = await receiver.waitFor(1);
      expect(JSON.parse(request!.body).triggered_alerts).toMatchObject([{ alert: { id: alertId }, current_value: '25.00' }]);
      await settled();
      expect(receiver.requests).toHaveLength(1);
    }, 120_000);
  });
} else {
  describe('several evaluators on one embedded database (PGlite is one process; PostgreSQL runs the multi-process version)', () => {
    it('notifies exactly the crossings of 200 price changes over 20 alerts, with two evaluators racing', async () => {
      const t = await createTestApp({ env: { ADMIN_API_KEY: ADMIN_KEY, WEBHOOK_MAX_DELIVERIES: '10000', WEBHOOK_RETRY_BASE_MS: '10' } });
      const receiver = await createReceiver();
      try {
        const steps = pushAlertSteps(t);
        const s = scenario({ users: 4, alertsPerUser: 5, tickers: 4, changes: 200, seed: 7 });
        await t.startWorker();
        await Promise.all([t.startEvaluator(), t.startEvaluator()]);
        await steps.setPrices(Object.fromEntries(s.tickers.map((ticker) => [ticker, 100])));
        await steps.evaluated(); // before the alerts exist: the starting prices are no crossing
        const users = [];
        for (let i = 0; i < 4; i++) users.push(await steps.userWithWebhook(receiver.url));
        const ids = [];
        for (const spec of s.alerts) {
          ids.push(await steps.createAlert(users[spec.user]!.apiKey, { ticker: spec.ticker, targetPrice: spec.targetPrice, direction: spec.direction }));
        }
        await Promise.all(
          s.tickers.map(async (ticker) => {
            for (const price of s.lanes.get(ticker)!) await steps.setPrices({ [ticker]: price });
          }),
        );
        await steps.evaluated();
        const enqueued = await t.database.db.select({ id: webhookDeliveries.id }).from(webhookDeliveries);
        await eventually(() => expect(collect(receiver).bodies.size).toBe(enqueued.length));
        expectCrossingsDelivered(s, ids, collect(receiver).perAlert);
      } finally {
        await t.close();
        await receiver.close();
      }
    }, 120_000);
  });
}
