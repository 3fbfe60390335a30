import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const MAX_STREAMS = 2;
let t: TestApp;
let apiKey: string;
beforeAll(async () => {
  t = await createTestApp({ env: { STREAMS_PER_KEY_MAX: String(MAX_STREAMS) } });
  ({ apiKey } = await t.register());
});
afterAll(() => t.close());

describe('arguments are not echoed beyond a short prefix', () => {
  const huge = 'x'.repeat(95_000);

  it('a 95 kB delivery id comes back as 64 characters and an ellipsis, in the message and the id', async () => {
    const res = await t.gql(
      `mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { __typename ... on Error { message } ... on DeliveryNotFound { id } } }`,
      { apiKey, variables: { id: huge } },
    );
    const payload = res.body.data!.redeliverWebhookDelivery;
    expect(payload.__typename).toBe('DeliveryNotFound');
    expect(payload.id).toBe(`${'x'.repeat(64)}…`);
    expect(payload.message).toBe(`Delivery ${'x'.repeat(64)}… was not found`);
    expect(JSON.stringify(res.body).length).toBeLessThan(1000);
  });

  it('a 95 kB webhook URL is quoted only up to 4096 characters', async () => {
    const res = await t.gql(`mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename ... on InvalidWebhookUrl { url message } } }`, {
      apiKey,
      variables: { input: { url: `https://example.com/${huge}` } },
    });
    expect(res.body.data!.setWebhook.__typename).toBe('InvalidWebhookUrl');
    expect(res.body.data!.setWebhook.url).toHaveLength(4097);
    expect(JSON.stringify(res.body).length).toBeLessThan(5000);
  });

  it('so does an alert id', async () => {
    const res = await t.gql(`mutation($id: ID!) { deleteAlert(id: $id) { __typename ... on AlertNotFound { id message } } }`, {
      apiKey,
      variables: { id: huge },
    });
    expect(res.body.data!.deleteAlert).toMatchObject({ __typename: 'AlertNotFound', id: `${'x'.repeat(64)}…` });
    expect(JSON.stringify(res.body).length).toBeLessThan(1000);
  });
});

describe('open subscription streams per account are capped', () => {
  async function open(key: string) {
    const controller = new AbortController();
    const response = await t.app.fetch('http://127.0.0.1/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': key },
      body: JSON.stringify({ query: `subscription { webhookDeliveryUpdated { id } }` }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    return {
      status: response.status,
      /** The first chunk's text: SSE's opening comment on a healthy stream, the error on a refused one. */
      async first(): Promise<string> {
        const { value } = await reader.read();
        return new TextDecoder().decode(value);
      },
      close: () => {
        void reader.cancel().catch(() => {});
        controller.abort();
      },
    };
  }

  const subscribe = (key: string, accept: string) =>
    t.app.fetch('http://127.0.0.1/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, 'x-api-key': key },
      body: JSON.stringify({ query: 'subscription { webhookDeliveryUpdated { id } }' }),
    });
  const streamRefusal = {
    message: 'A subscription answers as a stream: send Accept: text/event-stream (or multipart/mixed;subscriptionSpec=1.0)',
    extensions: { code: 'BAD_REQUEST' },
  };

  // yoga answered such a request 406 with an empty body and left the subscription running: each
  // one held a place for good, and after STREAMS_PER_KEY_MAX of them the key could stream no more.
  it('refuses a subscription asked for without a stream type with a typed 406, and keeps no place for it', async () => {
    const { apiKey: key } = await t.register();
    // multipart/mixed without subscriptionSpec is Apollo's @defer protocol, not its subscriptions'.
    for (const accept of ['application/json', 'application/json', 'multipart/mixed']) {
      const res = await subscribe(key, accept);
      expect(res.status).toBe(406);
      expect(res.headers.get('accept')).toBe('text/event-stream, multipart/mixed;subscriptionSpec=1.0');
      expect((await res.json()).errors).toEqual([streamRefusal]);
    }
    const streams = [await open(key), await open(key)];
    try {
      for (const s of streams) expect(await s.first()).not.toContain('TOO_MANY_STREAMS');
      // A refusal that is one result, not a stream, reaches a client that takes only multipart
      // subscriptions as one part, and any other client as the typed 406 (yoga: an empty 406).
      const multipart = await subscribe(key, 'multipart/mixed;subscriptionSpec=1.0');
      expect(multipart.status).toBe(200); // a multipart answer's status is sent before its parts
      expect(multipart.headers.get('content-type')).toContain('subscriptionSpec="1.0"');
      expect(await multipart.text()).toContain('"code":"TOO_MANY_STREAMS"');
      const other = await subscribe(key, 'multipart/mixed');
      expect(other.status).toBe(406);
      expect((await other.json()).errors).toEqual([streamRefusal]);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it(`refuses stream ${MAX_STREAMS + 1} with TOO_MANY_STREAMS, and takes a new one once another closes`, async () => {
    const streams = [await open(apiKey), await open(apiKey)];
    // Both are healthy streams: nothing but SSE's opening comment until a change.
    for (const s of streams) expect(await s.first()).not.toContain('TOO_MANY_STREAMS');
    const third = await open(apiKey);
    try {
      const refusal = await third.first();
      expect(third.status).toBe(429);
      expect(refusal).toContain('"code":"TOO_MANY_STREAMS"');
      expect(refusal).toContain(`At most ${MAX_STREAMS} subscription streams`);
      // Another key is not affected.
      const other = await open((await t.register()).apiKey);
      expect(await other.first()).not.toContain('TOO_MANY_STREAMS');
      other.close();

      streams.shift()!.close();
      await eventually(async () => {
        const next = await open(apiKey);
        const event = await next.first();
        if (event?.includes('TOO_MANY_STREAMS')) {
          next.close();
          throw new Error('still full');
        }
        streams.push(next);
      });
    } finally {
      third.close();
      for (const s of streams) s.close();
    }
  });
});
