import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SendTestWebhookDocument, WebhookDeliveryUpdatedDocument } from '../client/generated/graphql.js';
import { KEY_REMOVED_MESSAGE } from '../src/http/revoked-key-streams.plugin.js';
import { startLiveFixture, type LiveFixture } from './helpers/live-fixture.js';
import { followFirstDelivery, type DeliveryEvent } from './helpers/subscription-events.js';

const SUBSCRIPTION = print(WebhookDeliveryUpdatedDocument);
const PING = print(SendTestWebhookDocument);
const REMOVED = { message: KEY_REMOVED_MESSAGE, extensions: { code: 'UNAUTHENTICATED' } };

let f: LiveFixture;
beforeAll(async () => {
  f = await startLiveFixture();
});
afterAll(() => f.close());

type Result = { data?: { webhookDeliveryUpdated: DeliveryEvent } | null; errors?: unknown[] };

/** An SSE subscription over a real socket: its results one by one (null once the stream has ended). */
async function sse(apiKey: string) {
  const controller = new AbortController();
  const response = await fetch(f.live.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': apiKey },
    body: JSON.stringify({ query: SUBSCRIPTION }),
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  return {
    async next(): Promise<Result | null> {
      for (;;) {
        const end = buffered.indexOf('\n\n');
        if (end >= 0) {
          const event = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (/^event: complete/m.test(event)) return null;
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data && /^event: next/m.test(event)) return JSON.parse(data) as Result;
          continue; // a keep-alive comment
        }
        const { done, value } = await reader.read();
        if (done) return null;
        buffered += decoder.decode(value, { stream: true });
      }
    },
    close: () => controller.abort(),
  };
}

const events = (next: () => Promise<Result | null>) => async () => {
  const result = await next();
  if (!result?.data) throw new Error(`not a delivery event: ${JSON.stringify(result)}`);
  return result.data.webhookDeliveryUpdated;
};

describe('streams opened with an API key', () => {
  it('end with UNAUTHENTICATED when that key is revoked, over SSE and WebSocket; other keys stream on', async () => {
    const { apiKey } = await f.userWithWebhook();
    const created = await f.t.gql(
      'mutation { createApiKey(input: { name: "leaked" }) { ... on CreateApiKeySuccess { apiKey key { id } } } }',
      { apiKey },
    );
    const { apiKey: leaked, key } = created.body.data!.createApiKey;
    const ping = async () => (await f.t.gql(PING, { apiKey })).body.data!.sendTestWebhook.delivery.id as string;

    const kept = await sse(apiKey);
    const revokedSse = await sse(leaked);
    const ws = createClient({ url: f.live.wsUrl, webSocketImpl: WebSocket, connectionParams: { 'X-API-Key': leaked }, retryAttempts: 0 });
    const revokedWs = ws.iterate<Record<string, any>>({ query: SUBSCRIPTION });
    const wsNext = async () => ((await revokedWs.next()).value ?? null) as Result | null;
    try {
      // Each stream is live: it has seen a delivery of this user's.
      await followFirstDelivery(events(kept.next), ping);
      await followFirstDelivery(events(revokedSse.next), ping);
      await followFirstDelivery(events(wsNext), ping);

      const revoked = await f.t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { __typename } }', { apiKey, variables: { id: key.id } });
      expect(revoked.body.data!.revokeApiKey.__typename).toBe('RevokeApiKeySuccess');

      // What each revoked stream still had queued comes first; then the one error, and the end.
      const untilEnd = async (next: () => Promise<Result | null>) => {
        const errors: unknown[] = [];
        for (let result = await next(); result; result = await next()) if (result.errors) errors.push(...result.errors);
        return errors;
      };
      expect(await untilEnd(revokedSse.next)).toEqual([REMOVED]);
      expect(await untilEnd(wsNext)).toEqual([REMOVED]);

      // The key that was not revoked streams on: a delivery made after the revocation reaches it
      // (events queued before are passed over).
      const after = await ping();
      const next = events(kept.next);
      for (let event = await next(); !(event.id === after && event.status === 'DELIVERED'); event = await next());
    } finally {
      kept.close();
      revokedSse.close();
      await revokedWs.return?.();
      await ws.dispose();
    }
  });
});
