import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { count } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteChanges } from '../src/db/tables.js';
import { createSecretBox } from '../src/modules/webhooks/secret-box.js';
import { compiled, repositoryRoot } from './helpers/compiled.js';
import { ADMIN_KEY, pushAlertSteps } from './helpers/push-alerts.js';
import { createReceiver, type Receiver } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

let dir: string;
let source: TestDatabaseSource;
let receiver: Receiver;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'aw-push-import-'));
  source = await createTestDatabaseSource({ dataDir: path.join(dir, 'data') });
  receiver = await createReceiver();
});
afterAll(async () => {
  await receiver.close();
  await source.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** `npm run quotes:import` in a process of its own; the app is stopped meanwhile (PGlite belongs to one process). */
async function runImport(csv: string): Promise<string> {
  const file = path.join(dir, 'prices.csv');
  writeFileSync(file, csv);
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  if (backend === 'postgres') env.DATABASE_URL = source.url;
  else {
    delete env.DATABASE_URL;
    env.DATA_DIR = path.join(dir, 'data');
  }
  const { stdout } = await promisify(execFile)(process.execPath, [compiled('scripts/import-quotes.ts'), file], { cwd: repositoryRoot, env });
  return stdout;
}

// One key across restarts, as DATA_DIR or SECRET_ENCRYPTION_KEY gives a real server.
const secretBox = createSecretBox(randomBytes(32));
const open = () => createTestApp({ source, secretBox, env: { ADMIN_API_KEY: ADMIN_KEY } });

describe('a CSV import evaluates the alerts it moves', () => {
  let t: TestApp | undefined;
  afterAll(() => t?.close());

  it('sends one delivery listing the 3 alerts of a user that one import moved, evaluated after a restart', async () => {
    t = await open();
    const steps = pushAlertSteps(t);
    const evaluator = await t.startEvaluator();
    await steps.setPrices({ CSVA: 10, CSVB: 20, CSVC: 30, CSVD: 40 });
    await steps.evaluated();
    await evaluator.stop();
    const user = await steps.userWithWebhook(receiver.url);
    const ids = [
      await steps.createAlert(user.apiKey, { ticker: 'CSVA', targetPrice: 11 }),
      await steps.createAlert(user.apiKey, { ticker: 'CSVB', targetPrice: 19, direction: 'BELOW' }),
      await steps.createAlert(user.apiKey, { ticker: 'CSVC', targetPrice: 31 }),
      await steps.createAlert(user.apiKey, { ticker: 'CSVD', targetPrice: 99 }),
    ];
    await t.close();
    t = undefined;

    // The import commits its price changes and exits; no evaluator is running anywhere.
    expect(await runImport('ticker,price\nCSVA,12\nCSVB,18.5\nCSVC,32\nCSVD,41\n')).toContain('imported 4 quote(s)');

    t = await open();
    const [pending] = await t.database.db.select({ n: count() }).from(quoteChanges);
    expect(pending!.n).toBe(4);
    await t.startWorker();
    await t.startEvaluator();
    const [request] = await receiver.waitFor(1);
    const body = JSON.parse(request!.body);
    expect(body.triggered_count).toBe(3);
    expect(body.triggered_alerts.map((e: { alert: { id: string } }) => e.alert.id).sort()).toEqual(ids.slice(0, 3).sort());
    await pushAlertSteps(t).evaluated();
    expect(await pushAlertSteps(t).deliveriesOf(user.userId)).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
  });
});
