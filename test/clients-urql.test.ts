import { Client, fetchExchange, type OperationResult } from '@urql/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegisterDocument, ViewerDocument, WebhookDeliveryUpdatedDocument, SendTestWebhookDocument } from '../client/generated/graphql.js';
import { startLiveFixture, type LiveFixture } from './helpers/live-fixture.js';
import { expectDelivered, followFirstDelivery, type DeliveryEvent } from './helpers/subscription-events.js';

let f: LiveFixture;
beforeAll(async () => {
  f = await startLiveFixture();
});
afterAll(() => f.close());

/** urql as its docs set it up; `sent` records what reached the wire (the real fetch does the work). */
function urqlClient(apiKey?: string) {
  const sent: { method: string; status: number }[] = [];
  const client = new Client({
    url: f.live.url,
    exchanges: [fetchExchange],
    fetchSubscriptions: true,
    requestPolicy: 'network-only',
    fetchOptions: (): RequestInit => ({ headers: apiKey ? { 'X-API-Key': apiKey } : {} }),
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      sent.push({ method: init?.method ?? 'GET', status: response.status });
      return response;
    },
  });
  return { client, sent };
}

describe('@urql/core', () => {
  it('sends queries as GET with the key, and they answer', async () => {
    const { apiKey, userId } = await f.t.register();
    const { client, sent } = urqlClient(apiKey);
    const result = await client.query(ViewerDocument, {}).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data?.viewer?.id).toBe(userId);
    expect(sent).toEqual([{ method: 'GET', status: 200 }]);
  });

  it('answers a GET without a key with UNAUTHENTICATED, not a CSRF refusal', async () => {
    const { client, sent } = urqlClient();
    const result = await client.query(ViewerDocument, {}).toPromise();
    expect(result.error?.graphQLErrors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(sent).toEqual([{ method: 'GET', status: 401 }]);
  });

  it('sends mutations as POST', async () => {
    const { client, sent } = urqlClient();
    const email = `urql-${Date.now()}@example.com`;
    const result = await client.mutation(RegisterDocument, { input: { name: 'Urql', email } }).toPromise();
    expect(result.data?.register.user).toMatchObject({ name: 'Urql', email });
    expect(result.data?.register.apiKey).toMatch(/^aw_/);
    expect(sent).toEqual([{ method: 'POST', status: 200 }]);
  });

  it('receives a subscription over server-sent events (fetchSubscriptions)', async () => {
    const { apiKey } = await f.userWithWebhook();
    const { client } = urqlClient(apiKey);
    const queue: DeliveryEvent[] = [];
    const waiting: ((e: DeliveryEvent) => void)[] = [];
    const errors: unknown[] = [];
    const { unsubscribe } = client.subscription(WebhookDeliveryUpdatedDocument, {}).subscribe((result: OperationResult) => {
      if (result.error) errors.push(result.error);
      const event = result.data?.webhookDeliveryUpdated as DeliveryEvent | undefined;
      if (!event) return;
      const w = waiting.shift();
      if (w) w(event);
      else queue.push(event);
    });
    try {
      const next = () => {
        const queued = queue.shift();
        return queued ? Promise.resolve(queued) : new Promise<DeliveryEvent>((resolve) => waiting.push(resolve));
      };
      const ping = async () => {
        const res = await client.mutation(SendTestWebhookDocument, {}).toPromise();
        const payload = res.data?.sendTestWebhook;
        if (payload?.__typename !== 'SendTestWebhookSuccess') throw new Error(JSON.stringify(res));
        return payload.delivery.id;
      };
      expectDelivered(await followFirstDelivery(next, ping));
      expect(errors).toEqual([]);
    } finally {
      unsubscribe();
    }
  });
});
