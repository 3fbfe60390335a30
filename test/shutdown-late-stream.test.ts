import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type LiveServer } from './helpers/live-server.js';
import { HANG_MS } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// A subscription whose request is still arriving when the server starts closing becomes a stream
// after the close has ended the others: it is ended too, not left to hold the close for its grace.
let t: TestApp;
let live: LiveServer;
let apiKey: string;
beforeAll(async () => {
  t = await createTestApp();
  ({ apiKey } = await t.register());
  live = await serve(t);
});
afterAll(() => t.close());

describe('closing the server while a subscription request is still arriving', () => {
  it('ends that stream once it starts, and the close does not wait for its grace', async () => {
    const { port } = new URL(live.url);
    const body = JSON.stringify({ query: 'subscription { webhookDeliveryUpdated { id } }' });
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

    // A grace far beyond the test's bound: only ending the late stream lets close() finish.
    const closed = live.http.close(3_600_000);
    socket.write(body.slice(10));
    const outcome = await Promise.race([
      Promise.all([closed, socketClosed]).then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still open'), HANG_MS)),
    ]);
    expect(outcome).toBe('closed');
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received.toLowerCase()).toContain('content-type: text/event-stream');
  });
});
