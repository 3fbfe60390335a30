import { print } from 'graphql';
import { createClient as createSseClient, type ClientOptions as SseOptions } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import type { ApolloClient as ApolloClientType, ApolloLink as ApolloLinkClass } from '@apollo/client';
import type { Observable as RxObservable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  AlertsDocument,
  CreateAlertDocument,
  SendTestWebhookDocument,
  WebhookDeliveryUpdatedDocument,
} from '../client/generated/graphql.js';
import possibleTypes from '../client/generated/possible-types.js';
import { startLiveFixture, type LiveFixture } from './helpers/live-fixture.js';
import { expectDelivered, followFirstDelivery, type DeliveryEvent } from './helpers/subscription-events.js';

// Apollo's development build: it warns about every field it cannot write into its cache.
(globalThis as { __DEV__?: boolean }).__DEV__ = true;
const apollo = await import('@apollo/client');
const { GraphQLWsLink } = await import('@apollo/client/link/subscriptions');
const { __DEV__ } = await import('@apollo/client/utilities/environment');

let f: LiveFixture;
const warnings: unknown[][] = [];
const cleanups: (() => unknown)[] = [];
beforeAll(async () => {
  f = await startLiveFixture();
  for (const level of ['warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void warnings.push([level, ...args]));
  }
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  vi.restoreAllMocks();
  await f.close();
});

function apolloClient(apiKey: string, link?: ApolloLinkClass) {
  const http = new apollo.HttpLink({ uri: f.live.url, headers: { 'X-API-Key': apiKey } });
  const client = new apollo.ApolloClient({
    link: link ?? http,
    cache: new apollo.InMemoryCache({ possibleTypes: possibleTypes.possibleTypes }),
  });
  cleanups.push(() => client.stop());
  return client;
}

/** Apollo's observable as a pull-based reader of delivery events. */
function reader(observable: RxObservable<ApolloClientType.SubscribeResult<any>>): () => Promise<DeliveryEvent> {
  const queue: DeliveryEvent[] = [];
  const waiting: { resolve: (e: DeliveryEvent) => void; reject: (error: unknown) => void }[] = [];
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= error;
    for (const w of waiting.splice(0)) w.reject(error);
  };
  const subscription = observable.subscribe({
    next: (result) => {
      if (result.error) return fail(result.error);
      const event = result.data?.webhookDeliveryUpdated as DeliveryEvent | undefined;
      if (!event) return;
      const w = waiting.shift();
      if (w) w.resolve(event);
      else queue.push(event);
    },
    error: fail,
  });
  cleanups.push(() => subscription.unsubscribe());
  return () => {
    if (failure) return Promise.reject(failure);
    const queued = queue.shift();
    return queued ? Promise.resolve(queued) : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
}

const pingFor = (apiKey: string) => async () =>
  (await f.t.gql(print(SendTestWebhookDocument), { apiKey })).body.data!.sendTestWebhook.delivery.id as string;

describe('@apollo/client with the generated possibleTypes', () => {
  it('runs in the development build', () => {
    expect(__DEV__).toBe(true);
  });

  it('keeps every field of union and interface results, with no cache warnings', async () => {
    const { apiKey } = await f.t.register();
    const client = apolloClient(apiKey);
    const created = await client.mutate({
      mutation: CreateAlertDocument,
      variables: { input: { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: 200, direction: 'ABOVE' } },
    });
    const result = created.data!.createAlert;
    expect(result.__typename).toBe('CreateAlertSuccess');
    const alert = result.__typename === 'CreateAlertSuccess' ? result.alert : undefined;
    expect(alert).toEqual({
      __typename: 'PriceThresholdAlert',
      id: expect.any(String),
      alertType: 'PRICE_THRESHOLD',
      ticker: 'AAPL',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      targetPrice: 200,
      direction: 'ABOVE',
    });

    const invalid = await client.mutate({
      mutation: CreateAlertDocument,
      variables: { input: { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: -1, direction: 'ABOVE' } },
    });
    expect(invalid.data!.createAlert).toMatchObject({
      __typename: 'ValidationError',
      message: expect.any(String),
      fields: [{ path: ['input', 'targetPrice'], message: expect.any(String) }],
    });

    const listed = await client.query({ query: AlertsDocument, fetchPolicy: 'network-only' });
    expect(listed.data!.alerts).toEqual({ __typename: 'AlertList', count: 1, maxAlerts: 10, alerts: [alert] });
    // Read back from the cache alone: the interface fragment's fields were written.
    const cached = client.readQuery({ query: AlertsDocument });
    expect(cached!.alerts.alerts).toEqual([alert]);
    expect(warnings).toEqual([]);
  });
});

describe('Apollo subscriptions', () => {
  it("through HttpLink alone (Apollo's multipart HTTP subscriptions)", async () => {
    const { apiKey } = await f.userWithWebhook();
    const client = apolloClient(apiKey);
    const next = reader(client.subscribe({ query: WebhookDeliveryUpdatedDocument }));
    expectDelivered(await followFirstDelivery(next, pingFor(apiKey)));
    expect(warnings).toEqual([]);
  });

  it('through HttpLink without a key: an UNAUTHENTICATED error, not a hang', async () => {
    const client = new apollo.ApolloClient({ link: new apollo.HttpLink({ uri: f.live.url }), cache: new apollo.InMemoryCache() });
    cleanups.push(() => client.stop());
    const next = reader(client.subscribe({ query: WebhookDeliveryUpdatedDocument }));
    const error = await next().then(() => undefined, (e: unknown) => e);
    expect(JSON.stringify(error)).toContain('UNAUTHENTICATED');
  });

  it('through GraphQLWsLink (graphql-ws)', async () => {
    const { apiKey } = await f.userWithWebhook();
    const ws = createWsClient({ url: f.live.wsUrl, webSocketImpl: WebSocket, connectionParams: { 'X-API-Key': apiKey } });
    cleanups.push(() => ws.dispose());
    const client = apolloClient(apiKey, new GraphQLWsLink(ws));
    const next = reader(client.subscribe({ query: WebhookDeliveryUpdatedDocument }));
    expectDelivered(await followFirstDelivery(next, pingFor(apiKey)));
    expect(warnings).toEqual([]);
  });

  // The link from yoga's documentation; Apollo 4 adds `operationType` to what it spreads.
  class SSELink extends apollo.ApolloLink {
    private client;
    constructor(options: SseOptions<boolean>) {
      super();
      this.client = createSseClient(options);
      cleanups.push(() => this.client.dispose());
    }
    override request(operation: ApolloLinkClass.Operation) {
      return new apollo.Observable<any>((sink) =>
        this.client.subscribe({ ...operation, query: print(operation.query) }, {
          next: sink.next.bind(sink),
          complete: sink.complete.bind(sink),
          error: sink.error.bind(sink),
        }),
      );
    }
  }

  it.each<[string, boolean]>([
    ['distinct connections', false],
    ['a single connection', true],
  ])('through the SSE link of yoga\'s docs (graphql-sse, %s)', async (_name, singleConnection) => {
    const { apiKey } = await f.userWithWebhook();
    const options = { url: f.live.url, headers: { 'X-API-Key': apiKey }, retryAttempts: 0 };
    const link = new SSELink(singleConnection ? { ...options, singleConnection: true } : options);
    const client = apolloClient(apiKey, link);
    const next = reader(client.subscribe({ query: WebhookDeliveryUpdatedDocument }));
    expectDelivered(await followFirstDelivery(next, pingFor(apiKey)));
    expect(warnings).toEqual([]);
  });
});
