import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type LiveServer } from './helpers/live-server.js';
import { HANG_MS } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// A subscription whose request is still arriving when the server starts closing becomes a stream
// after the close has ended the others: it is ended too, not left to hold the close for its grace.
// A query answered as an event stream ends by itself, and is left to.
let t: TestApp;
let live: LiveServer;
let apiKey: string;
let userId: string;
beforeAll(async () => {
  t = await createTestApp();
  ({ apiKey, userId } = await t.register());
  live = await serve(t);
});
afterAll(() => t.close());

/** Sends `query` as an event-stream request whose body is cut in two; the server starts closing between the halves. */
async function arrivingDuringClose(query: string): Promise<{ outcome: unknown; received: string }> {
  const { port } = new URL(live.url);
  const body = JSON.stringify({ query });
  const socket = connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  const socketClosed = new Promise((resolve) => socket.once('close', resolve));
  const head = [
    'POST /graphql HTTP/1.1',
    'Host: 127.0.0.1',
    'Content-Type: application/json',
    'Accept: text/event-stream',
    `X-API-Key: ${apiKey}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
  ].join('\r\n');
  // Headers and half the body: the request is in flight, not a stream yet.
  const arrived = new Promise((resolve) => live.http.server.once('request', resolve));
  socket.write(`${head}\r\n\r\n${body.slice(0, 10)}`);
  await arrived;

  // A grace far beyond the test's bound: the close must not need it.
  const closed = live.http.close(3_600_000);
  socket.write(body.slice(10));
  const outcome = await Promise.race([
    Promise.all([closed, socketClosed]).then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('still open'), HANG_MS)),
  ]);
  socket.destroy();
  return { outcome, received };
}

describe('closing the server while an event-stream request is still arriving', () => {
  it('ends a subscription once its stream starts, and the close does not wait for its grace', async () => {
    const { outcome, received } = await arrivingDuringClose('subscription { webhookDeliveryUpdated { id } }');
    expect(outcome).toBe('closed');
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.toLowerCase()).toContain('content-type: text/event-stream');
  });

  it('lets a query answered as an event stream finish: its result and its end arrive whole', async () => {
    live = await serve(t); // the first case closed the other one
    const { outcome, received } = await arrivingDuringClose('{ viewer { id } }');
    expect(outcome).toBe('closed');
    expect(received).toContain(`data: {"data":{"viewer":{"id":"${userId}"}}}`);
    expect(received).toContain('event: complete');
  });
});
