import { print } from 'graphql';
import { createClient } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendTestWebhookDocument, WebhookDeliveryUpdatedDocument } from '../client/generated/graphql.js';
import { startLiveFixture, type LiveFixture } from './helpers/live-fixture.js';
import { deliveryEvents, expectDelivered, followFirstDelivery } from './helpers/subscription-events.js';

let f: LiveFixture;
beforeAll(async () => {
  f = await startLiveFixture();
});
afterAll(() => f.close());

describe('graphql-sse', () => {
  it.each<[string, boolean]>([
    ['distinct connections mode (yoga native)', false],
    ['single connection mode', true],
  ])('streams deliveries in %s', async (_name, singleConnection) => {
    const { apiKey } = await f.userWithWebhook();
    const client = createClient({ url: f.live.url, headers: { 'X-API-Key': apiKey }, singleConnection, retryAttempts: 0 });
    const events = client.iterate<{ webhookDeliveryUpdated: { id: string; status: string; attempts: number } }>({
      query: print(WebhookDeliveryUpdatedDocument),
    });
    try {
      const ping = async () => (await f.t.gql(print(SendTestWebhookDocument), { apiKey })).body.data!.sendTestWebhook.delivery.id as string;
      expectDelivered(await followFirstDelivery(deliveryEvents(events, (r) => r.data!.webhookDeliveryUpdated), ping));
    } finally {
      await events.return?.();
      client.dispose();
    }
  });

  it('single connection mode reserves anew after a lazy close, with the old token still in its headers', async () => {
    const { apiKey, userId } = await f.t.register();
    // A plain headers object: graphql-sse's client writes its token into it and sends it again.
    const client = createClient({ url: f.live.url, headers: { 'X-API-Key': apiKey }, singleConnection: true, retryAttempts: 0 });
    try {
      for (let i = 0; i < 2; i++) {
        const results: unknown[] = [];
        for await (const result of client.iterate({ query: '{ viewer { id } }' })) results.push(result);
        expect(results).toEqual([{ data: { viewer: { id: userId } } }]);
      }
    } finally {
      client.dispose();
    }
  });

  it('reserves a single-connection stream only for a valid key', async () => {
    for (const headers of [{}, { 'x-api-key': 'aw_not-a-key' }] as Record<string, string>[]) {
      const res = await fetch(f.live.url, { method: 'PUT', headers });
      expect(res.status).toBe(401);
      expect((await res.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const { apiKey } = await f.t.register();
    const reserved = await fetch(f.live.url, { method: 'PUT', headers: { 'x-api-key': apiKey } });
    expect(reserved.status).toBe(201);
    expect(await reserved.text()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('leaves plain requests and GraphiQL to yoga', async () => {
    const res = await fetch(f.live.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await res.json()).toEqual({ data: { __typename: 'Query' } });
    const page = await fetch(f.live.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).toContain('<title>Alertwire</title>');
  });
});
