import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/ports.js';
import { createReceiver, eventually, type Receiver } from './helpers/receiver.js';
import { createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function post(url: string, query: string, apiKey?: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: unknown[] } };
}

describe('kill -TERM on `npm start`', () => {
  it('lets a request in flight finish (database work included) before the database closes, then exits 0', async () => {
    // A quote provider that answers at once, or holds the request while `hold` is set.
    let hold: Promise<void> | undefined;
    let release = () => {};
    const quotes: Receiver = await createReceiver(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ price: 215.3 }),
      until: hold,
    }));
    cleanups.push(() => quotes.close());
    const webhookReceiver = await createReceiver();
    cleanups.push(() => webhookReceiver.close());

    const source: TestDatabaseSource = await createTestDatabaseSource();
    cleanups.push(() => source.destroy());
    const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-shutdown-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const port = await freePort();
    const child = spawn('npm', ['start'], {
      cwd: new URL('..', import.meta.url),
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DATABASE_URL: source.url ?? '',
        SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        QUOTES_URL: `http://127.0.0.1:${quotes.port}/quote/{ticker}`,
        QUOTES_CACHE_MS: '0',
        QUOTES_TIMEOUT_MS: '60000',
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        NODE_ENV: 'development',
        LOG_LEVEL: 'info',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    await eventually(() => {
      if (child.exitCode !== null) throw new Error(`npm start exited: ${stderr}`);
      expect(stdout).toContain('Alertwire is listening');
    }, 90_000);

    const url = `http://127.0.0.1:${port}/graphql`;
    const register = await post(url, `mutation { register(input: { name: "Term", email: "term@example.com" }) { apiKey } }`);
    const apiKey = register.body.data.register.apiKey as string;
    await post(url, `mutation($url: String!) { setWebhook(input: { url: $url }) { __typename } }`, apiKey, { url: webhookReceiver.url });
    const created = await post(
      url,
      `mutation { createAlert(input: { alertType: PRICE_THRESHOLD, ticker: "AAPL", targetPrice: 200, direction: ABOVE }) { __typename } }`,
      apiKey,
    );
    expect(created.body.data.createAlert.__typename).toBe('CreateAlertSuccess');

    hold = new Promise<void>((resolve) => (release = resolve));
    const before = quotes.requests.length;
    const inFlight = post(url, `{ triggeredAlerts { summary { triggeredCount } delivery { id status } } }`, apiKey);
    await quotes.waitFor(before + 1);
    child.kill('SIGTERM');
    await eventually(() => expect(stdout).toContain('"msg":"shutting down"'));
    // The server is stopping with the request held at the quote provider. Keep it slow for
    // longer than the old 2 s cut-off of every connection, then let it go.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    release();

    const answered = await inFlight;
    expect(answered.status).toBe(200);
    expect(answered.body.errors).toBeUndefined();
    // Writing the delivery row happens after the quote arrives, so the database was still open.
    expect(answered.body.data.triggeredAlerts).toMatchObject({ summary: { triggeredCount: 1 }, delivery: { status: 'PENDING' } });
    expect(await exited).toBe(0);
    expect(stdout).toContain('"msg":"stopped"');
    expect(stdout).not.toMatch(/CONNECTION_ENDED|unexpected error/);
    expect(stderr).toBe('');
  }, 150_000);
});
