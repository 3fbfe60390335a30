import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESERVATION_OPEN_MS } from '../src/http/graphql-sse.plugin.js';
import { manualClock } from './helpers/clock.js';
import { eventually } from './helpers/receiver.js';
import { serve } from './helpers/live-server.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// graphql-sse's single connection mode: a PUT reserves a stream that a GET with its token opens.
// The library itself keeps reservations for ever and without a limit.
const MAX = 2;
const URL = 'http://127.0.0.1/graphql';
const clock = manualClock();
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ clock, env: { STREAMS_PER_KEY_MAX: String(MAX) } });
});
afterAll(() => t.close());

const reserve = (apiKey: string) => t.app.fetch(URL, { method: 'PUT', headers: { 'x-api-key': apiKey } });
const open = (token: string, method = 'GET') =>
  t.app.fetch(URL, { method, headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token } });

async function reserveAll(apiKey: string): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < MAX; i++) {
    const res = await reserve(apiKey);
    expect(res.status).toBe(201);
    tokens.push(await res.text());
  }
  return tokens;
}

async function expectRefused(apiKey: string): Promise<void> {
  const res = await reserve(apiKey);
  expect(res.status).toBe(429);
  const body = await res.json();
  expect(body.errors[0].extensions).toEqual({ code: 'TOO_MANY_STREAMS', limit: MAX });
}

describe('single-connection stream reservations', () => {
  it('a key holds at most STREAMS_PER_KEY_MAX; one more is refused with TOO_MANY_STREAMS, other keys are not', async () => {
    const { apiKey } = await t.register();
    await reserveAll(apiKey);
    await expectRefused(apiKey);
    const other = await t.register();
    expect((await reserve(other.apiKey)).status).toBe(201);
  });

  it('a reservation left unopened is dropped after RESERVATION_OPEN_MS: its token opens nothing, its place is free', async () => {
    const { apiKey } = await t.register();
    const [token] = await reserveAll(apiKey);
    clock.advance(RESERVATION_OPEN_MS - 1);
    await expectRefused(apiKey);
    clock.advance(1);
    // The drop runs graphql-sse's handler, a few promise turns after the timer.
    await eventually(async () => expect((await reserve(apiKey)).status).toBe(201));
    const late = await open(token!);
    expect(late.headers.get('content-type')).not.toContain('text/event-stream');
    await late.body?.cancel();
  });

  it.each(['GET', 'POST'])('a stream opened by a %s keeps its place until it closes, and is not dropped as unopened', async (method) => {
    const { apiKey } = await t.register();
    const [token] = await reserveAll(apiKey);
    const stream = await open(token!, method);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    await reader.read(); // graphql-sse's first keep-alive comment
    // The other, unopened reservation is dropped; the open stream stays, still holding its place.
    clock.advance(RESERVATION_OPEN_MS);
    await eventually(async () => expect((await reserve(apiKey)).status).toBe(201));
    await expectRefused(apiKey);
    expect((await open(token!)).status).toBe(409);
    await reader.cancel();
    expect((await reserve(apiKey)).status).toBe(201);
  });

  it("a PUT's own token is ignored: it gets a new one, so the token it brought reserves nothing", async () => {
    const { apiKey } = await t.register();
    const brought = crypto.randomUUID();
    // graphql-sse's client sends its last token again when it reserves anew.
    const again = await t.app.fetch(`${URL}?token=${brought}`, { method: 'PUT', headers: { 'x-api-key': apiKey, 'x-graphql-event-stream-token': brought } });
    expect(again.status).toBe(201);
    expect(await again.text()).not.toBe(brought);
    // Without a key, a token brought along reserves nothing either.
    const anonymous = await t.app.fetch(URL, { method: 'PUT', headers: { 'x-graphql-event-stream-token': brought } });
    expect(anonymous.status).toBe(401);
    // The same answer for the other requests of the mode (a DELETE stops an operation): no key, no stream.
    const stop = await t.app.fetch(URL, { method: 'DELETE' });
    expect(stop.status).toBe(401);
    expect((await stop.json()).errors[0]).toEqual({
      message: 'A valid API key is required for a single-connection stream (graphql-sse)',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    const late = await open(brought);
    expect(late.headers.get('content-type')).not.toContain('text/event-stream');
    await late.body?.cancel();
  });

  it('on a real port, a client that goes away gives its place back', async () => {
    const live = await serve(t);
    try {
      const { apiKey } = await t.register();
      const [token] = await reserveAll(apiKey);
      const controller = new AbortController();
      const stream = await fetch(live.url, {
        headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token! },
        signal: controller.signal,
      });
      expect(stream.headers.get('content-type')).toContain('text/event-stream');
      await stream.body!.getReader().read();
      await expectRefused(apiKey);
      controller.abort();
      await eventually(async () => expect((await reserve(apiKey)).status).toBe(201));
    } finally {
      await live.close();
    }
  });
});
