import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/ports.js';
import { startProcess, type RunningProcess } from './helpers/processes.js';
import { createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

// Subscription streams never end by themselves: on SIGTERM the server ends every kind at once.
// The grace for other requests is set far beyond the test's timeout, so the server can only stop
// in time by ending the streams (before, a GET event stream was missed and held the stop).
const SUBSCRIPTION = 'subscription { webhookDeliveryUpdated { id } }';

let source: TestDatabaseSource;
let dataDir: string;
let server: RunningProcess;
let url: string;
beforeAll(async () => {
  source = await createTestDatabaseSource();
  dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-stop-streams-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}/graphql`;
  server = await startProcess(
    'src/main.ts',
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      DATABASE_URL: source.url ?? '',
      SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      SHUTDOWN_GRACE_MS: '3600000',
      LOG_LEVEL: 'info',
    },
    'Alertwire is listening',
  );
});
afterAll(async () => {
  await server?.stop().catch(() => {});
  await source?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Opens a stream and reads its first bytes; `ended` settles when the server ends or cuts it. */
async function openStream(init: RequestInit & { url?: string }): Promise<{ contentType: string | null; ended: Promise<unknown> }> {
  const res = await fetch(init.url ?? url, init);
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  const ended = (async () => {
    for (;;) if ((await reader.read()).done) return 'done';
  })().catch((error: unknown) => error);
  return { contentType: res.headers.get('content-type'), ended };
}

describe('SIGTERM with subscription streams open', () => {
  it('ends SSE (POST and GET), graphql-sse single-connection and multipart streams at once, and exits 0', async () => {
    const registered = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { register(input: { name: "Stop", email: "stop@example.com" }) { apiKey } }' }),
    });
    const key = { 'x-api-key': ((await registered.json()) as any).data.register.apiKey as string };
    const sse = { ...key, accept: 'text/event-stream' };
    const reserved = await fetch(url, { method: 'PUT', headers: key });
    const streams = await Promise.all([
      openStream({ method: 'POST', headers: { ...sse, 'content-type': 'application/json' }, body: JSON.stringify({ query: SUBSCRIPTION }) }),
      openStream({ url: `${url}?query=${encodeURIComponent(SUBSCRIPTION)}`, headers: sse }),
      openStream({ headers: { ...sse, 'x-graphql-event-stream-token': await reserved.text() } }),
      openStream({
        method: 'POST',
        headers: { ...key, 'content-type': 'application/json', accept: 'multipart/mixed;subscriptionSpec="1.0", application/json' },
        body: JSON.stringify({ query: SUBSCRIPTION }),
      }),
    ]);
    expect(streams.map((s) => s.contentType?.split(';')[0])).toEqual(['text/event-stream', 'text/event-stream', 'text/event-stream', 'multipart/mixed']);

    await server.stop(); // SIGTERM; fails if the process has not exited after HANG_MS
    expect(await server.exited).toBe(0);
    for (const stream of streams) expect(await stream.ended).toBeDefined();
    expect(server.output()).toContain('"msg":"stopped"');
  });
});
