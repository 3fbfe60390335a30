import type { Database } from '../../src/db/client.js';
import { serve, type LiveServer } from './live-server.js';
import { createReceiver, type Receiver } from './receiver.js';
import { createTestApp, type TestApp, type TestAppOptions } from './test-app.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './test-database.js';

const ADMIN_KEY = 'admin-key-0123456789';

export interface LiveFixture {
  t: TestApp;
  live: LiveServer;
  receiver: Receiver;
  /** A new user whose webhook points at the receiver. */
  userWithWebhook(): Promise<{ apiKey: string; userId: string }>;
  close(): Promise<void>;
}

/**
 * The app on a real port with a delivery worker, a receiver that answers 200, and an AAPL quote:
 * what a client library needs to see queries, mutations and a subscription's events.
 */
export async function startLiveFixture(options: TestAppOptions = {}): Promise<LiveFixture> {
  const source: TestDatabaseSource = await createTestDatabaseSource();
  const t = await createTestApp({ ...options, source, env: { ADMIN_API_KEY: ADMIN_KEY, ...options.env } });
  const receiver = await createReceiver();
  // On Postgres the worker has a connection of its own, as `npm run worker` would: its changes
  // reach subscribers only through NOTIFY.
  const workerDatabase: Database | undefined = backend === 'postgres' ? await source.open() : undefined;
  await t.startWorker({ database: workerDatabase });
  const quotes = await t.gql(`mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { count } }`, {
    apiKey: ADMIN_KEY,
    variables: { input: [{ ticker: 'AAPL', price: 215.3 }] },
  });
  if (quotes.body.data?.upsertQuotes.count !== 1) throw new Error(`upsertQuotes failed: ${JSON.stringify(quotes.body)}`);
  const live = await serve(t);
  return {
    t,
    live,
    receiver,
    async userWithWebhook() {
      const user = await t.register();
      await t.gql(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, {
        apiKey: user.apiKey,
        variables: { input: { url: receiver.url } },
      });
      return user;
    },
    async close() {
      await live.close();
      await t.close();
      await workerDatabase?.close();
      await receiver.close();
      await source.destroy();
    },
  };
}
