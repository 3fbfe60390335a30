import type { Clock } from '../../src/clock.js';
import { createPrivatePostgres, type PrivatePostgres } from './private-services.js';
import { createReceiver, type Receiver } from './receiver.js';
import { createTestApp, type TestApp } from './test-app.js';
import { postgresSource } from './test-database.js';

export interface OutageFixture {
  /** A PostgreSQL of the test's own, to stop or freeze. */
  pg: PrivatePostgres;
  t: TestApp;
  /** Holds its first request until letGo(), answers 200. */
  receiver: Receiver;
  letGo(): void;
  /** Registers a user whose webhook is the receiver and starts the worker; the user's API key. */
  subscriber(): Promise<string>;
  close(): Promise<void>;
}

/** An app on a private PostgreSQL and a receiver: what the outage tests break and watch. */
export async function createOutageFixture(options: { clock: Clock; env: Record<string, string> }): Promise<OutageFixture> {
  const pg = await createPrivatePostgres();
  let letGo!: () => void;
  const gate = new Promise<void>((resolve) => (letGo = resolve));
  const receiver = await createReceiver((_req, i) => (i === 0 ? { status: 200, until: gate } : { status: 200 }));
  const t = await createTestApp({ clock: options.clock, source: postgresSource(pg.url), env: options.env });
  return {
    pg,
    t,
    receiver,
    letGo,
    async subscriber() {
      const { apiKey } = await t.register();
      await t.gql(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`, {
        apiKey,
        variables: { input: { url: receiver.url } },
      });
      await t.startWorker();
      return apiKey;
    },
    async close() {
      pg.thaw();
      letGo();
      await t.close();
      await receiver.close();
      await pg.destroy();
    },
  };
}
