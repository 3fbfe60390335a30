import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.js';
import { webhooks } from '../src/db/tables.js';
import { hashApiKey } from '../src/modules/users/api-key.js';
import { createSecretBox, loadSecretBox } from '../src/modules/webhooks/secret-box.js';
import { createReceiver, type Receiver } from './helpers/receiver.js';
import { createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';
import { createTestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
const PING = `mutation { sendTestWebhook { __typename } }`;
const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');

let dataDir: string;
let source: TestDatabaseSource;
let receiver: Receiver;
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-secrets-'));
  // On PGlite the data folder lets a second app open the same data (a restart with new keys).
  source = await createTestDatabaseSource({ dataDir });
  receiver = await createReceiver();
});
afterAll(async () => {
  await receiver.close();
  await source.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

const webhookOf = async (database: Database, userId: string) =>
  (await database.db.select().from(webhooks)).find((w) => w.userId === userId)!;

/** Every row of every table, as text: what someone with a copy of the database would see. */
async function databaseDump(database: Database): Promise<string> {
  const result = await database.db.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
  );
  const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Record<string, unknown>[];
  const dump: Record<string, unknown[]> = {};
  for (const { table_name } of rowsOf(result)) {
    dump[String(table_name)] = rowsOf(await database.db.execute(sql.raw(`select * from "${String(table_name)}"`)));
  }
  return JSON.stringify(dump);
}

describe('secrets and keys at rest', () => {
  it('rotation: rows sealed with the previous key still decrypt, and are sealed with the new key when written', async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const before = await createTestApp({ source, secretBox: loadSecretBox({ key: OLD_KEY }) });
    const { apiKey, userId } = await before.register();
    await before.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret } } });
    const oldRow = await webhookOf(before.database, userId);
    await before.close();

    const after = await createTestApp({
      source,
      secretBox: loadSecretBox({ key: NEW_KEY, previousKey: OLD_KEY }),
      env: { WEBHOOK_RETRY_BASE_MS: '10' },
    });
    try {
      expect(after.secretBox.isStale({ ciphertext: oldRow.secretCiphertext!, keyId: oldRow.secretKeyId! })).toBe(true);
      // The old row signs a real delivery: the worker opened it with the previous key.
      await after.startWorker();
      expect((await after.gql(PING, { apiKey })).body.data!.sendTestWebhook.__typename).toBe('SendTestWebhookSuccess');
      const [delivery] = await receiver.waitFor(1);
      const expected = createHmac('sha256', secret).update(delivery!.body).digest('hex');
      expect(delivery!.headers['x-webhook-signature']).toBe(`sha256=${expected}`);

      await after.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret } } });
      const newRow = await webhookOf(after.database, userId);
      expect(newRow.secretKeyId).not.toBe(oldRow.secretKeyId);
      expect(newRow.secretCiphertext).not.toBe(oldRow.secretCiphertext);
      const onlyNewKey = createSecretBox(Buffer.from(NEW_KEY, 'base64'));
      expect(onlyNewKey.open({ ciphertext: newRow.secretCiphertext!, keyId: newRow.secretKeyId! })).toBe(secret);
      expect(() => onlyNewKey.open({ ciphertext: oldRow.secretCiphertext!, keyId: oldRow.secretKeyId! })).toThrow();
    } finally {
      await after.close();
    }
  });

  it('keeps API keys only as SHA-256 hashes and secrets only as ciphertext, in every table', async () => {
    const t = await createTestApp({ source });
    try {
      const { apiKey } = await t.register();
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret } } });
      await t.gql(PING, { apiKey });
      const dump = await databaseDump(t.database);
      expect(dump).toContain(hashApiKey(apiKey));
      expect(dump).not.toContain(apiKey);
      expect(dump).not.toContain(secret);
    } finally {
      await t.close();
    }
  });

  it('writes neither API keys nor secrets to the log, even when a request carrying them fails', async () => {
    const t = await createTestApp({ source, env: { WEBHOOK_RETRY_BASE_MS: '10' } });
    try {
      await t.startWorker();
      const { apiKey } = await t.register();
      const secret = `whsec_${randomBytes(24).toString('base64')}`;
      const next = `whsec_${randomBytes(24).toString('base64')}`;
      const seen = receiver.requests.length;
      await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret } } });
      await t.gql(PING, { headers: { authorization: `Bearer ${apiKey}` } });
      await receiver.waitFor(seen + 1);

      await t.database.db.execute(sql`alter table webhooks rename to webhooks_hidden`);
      try {
        const failed = await t.gql(SET, { apiKey, variables: { input: { url: receiver.url, secret: next } } });
        expect(failed.body.errors![0]!.extensions!.code).toBe('INTERNAL');
      } finally {
        await t.database.db.execute(sql`alter table webhooks_hidden rename to webhooks`);
      }

      const log = JSON.stringify(t.logs);
      expect(t.logs.some((l) => l.level === 'error' && l.msg === 'unexpected error')).toBe(true);
      expect(log).not.toContain(apiKey);
      expect(log).not.toContain(secret);
      expect(log).not.toContain(next);
    } finally {
      await t.close();
    }
  });
});
