import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SendTestWebhookDocument, WebhookDeliveryUpdatedDocument } from '../client/generated/graphql.js';
import { print } from 'graphql';
import { GRAPHQL_LIMITS } from '../src/http/graphql-limits.js';
import { deliveryEvents, expectDelivered, followFirstDelivery } from './helpers/subscription-events.js';
import { startLiveFixture, type LiveFixture } from './helpers/live-fixture.js';
import { serve } from './helpers/live-server.js';
import { createTestApp } from './helpers/test-app.js';

const SUBSCRIPTION = print(WebhookDeliveryUpdatedDocument);
const PING = print(SendTestWebhookDocument);

let f: LiveFixture;
const clients: Client[] = [];
beforeAll(async () => {
  f = await startLiveFixture();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await f.close();
});

function client(url: string, connectionParams?: Record<string, unknown>): Client {
  const c = createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  clients.push(c);
  return c;
}

/** The subscription's events as an async iterator, and a way to end it. */
function subscribe(c: Client, query: string) {
  return c.iterate<Record<string, any>>({ query });
}

describe('graphql-ws on the GraphQL port and path', () => {
  it('streams a delivery from PENDING to DELIVERED to a client presenting its key in connectionParams', async () => {
    const { apiKey } = await f.userWithWebhook();
    const c = client(f.live.wsUrl, { 'X-API-Key': apiKey });
    const events = subscribe(c, SUBSCRIPTION);
    const seen = await followFirstDelivery(
      deliveryEvents(events, (r) => r.data!.webhookDeliveryUpdated),
      async () => (await f.t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id,
    );
    expectDelivered(seen);
    await events.return?.();
  });

  it.each([
    ['Authorization: Bearer', (key: string) => ({ Authorization: `Bearer ${key}` })],
    ['apiKey', (key: string) => ({ apiKey: key })],
    ['headers', (key: string) => ({ headers: { 'x-api-key': key } })],
  ])('accepts the key as %s', async (_name, params) => {
    const { apiKey, userId } = await f.t.register();
    const result = await client(f.live.wsUrl, params(apiKey)).iterate({ query: '{ viewer { id } }' }).next();
    expect(result.value).toEqual({ data: { viewer: { id: userId } } });
  });

  it('answers UNAUTHENTICATED without a key, as over HTTP, and still lets register run', async () => {
    const c = client(f.live.wsUrl);
    const denied = await c.iterate({ query: SUBSCRIPTION }).next();
    expect(denied.value.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    // The HTTP status yoga keeps for its own answer (extensions.http) is not sent over the socket.
    expect(denied.value.extensions).toBeUndefined();
    const registered = await c
      .iterate({ query: `mutation { register(input: { name: "Ws", email: "ws-${Date.now()}@example.com" }) { user { name } } }` })
      .next();
    expect(registered.value).toEqual({ data: { register: { user: { name: 'Ws' } } } });
  });

  it('closes the connection with 4403 Forbidden when the key is wrong', async () => {
    const closed = new Promise<{ code: number }>((resolve) => {
      const c = createClient({
        url: f.live.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { 'X-API-Key': 'aw_not-a-key' },
        retryAttempts: 0,
        on: { closed: (event) => resolve(event as { code: number }) },
      });
      clients.push(c);
      c.subscribe({ query: '{ viewer { id } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    expect((await closed).code).toBe(4403);
  });

  it('runs the same validation limits as HTTP', async () => {
    const { apiKey } = await f.t.register();
    const n = GRAPHQL_LIMITS.maxAliases + 1;
    const aliases = `{ ${Array.from({ length: n }, (_, i) => `v${i}: viewer { id }`).join(' ')} }`;
    const refused = client(f.live.wsUrl, { 'X-API-Key': apiKey }).iterate({ query: aliases }).next();
    await expect(refused).rejects.toEqual([
      expect.objectContaining({ message: `Aliases limit of ${GRAPHQL_LIMITS.maxAliases} exceeded, found ${n}.` }),
    ]);
  });
});

describe('graphql-ws rate limits', () => {
  it('charge a subscription when subscribing, like SSE', async () => {
    const t = await createTestApp({ env: { RATE_LIMIT_MAX: '1' } });
    const live = await serve(t);
    try {
      const { apiKey } = await t.register();
      const c = client(live.wsUrl, { 'X-API-Key': apiKey });
      const first = subscribe(c, SUBSCRIPTION);
      const pending = first.next();
      const second = await subscribe(c, SUBSCRIPTION).next();
      expect(second.value.errors[0].extensions.code).toBe('RATE_LIMITED');
      await first.return?.();
      await pending.catch(() => {});
    } finally {
      await live.close();
      await t.close();
    }
  });
});
