import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhooks } from '../src/db/tables.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const SET = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) {
  __typename
  ... on SetWebhookSuccess { created message webhook { url hasSecret isActive createdAt updatedAt } }
  ... on InvalidWebhookUrl { message url }
  ... on ValidationError { message fields { path message } }
} }`;
const GET = `{ webhook { url hasSecret isActive createdAt updatedAt } }`;
const DELETE = `mutation { deleteWebhook { __typename ... on DeleteWebhookSuccess { message } ... on WebhookNotFound { message } } }`;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const allWebhookRows = () => t.database.db.select().from(webhooks);

const NOT_BASE64 =
  'A whsec_ secret must be base64 after the prefix (Standard Webhooks libraries decode it); leave the secret out of rotateWebhookSecret to have one generated, or drop the prefix';

describe('webhook configuration', () => {
  it('is null before one is set', async () => {
    const { apiKey } = await t.register();
    const res = await t.gql(GET, { apiKey });
    expect(res.body).toEqual({ data: { webhook: null } });
  });

  it('creates, then replaces, the single webhook', async () => {
    const { apiKey } = await t.register();
    const first = await t.gql(SET, { apiKey, variables: { input: { url: 'https://example.com/hook' } } });
    expect(first.body.data!.setWebhook).toMatchObject({
      __typename: 'SetWebhookSuccess',
      created: true,
      message: 'Webhook registered successfully',
      webhook: { url: 'https://example.com/hook', hasSecret: false, isActive: true },
    });
    const second = await t.gql(SET, { apiKey, variables: { input: { url: 'http://example.org/other', secret: 's3cret' } } });
    const replaced = second.body.data!.setWebhook;
    expect(replaced).toMatchObject({
      created: false,
      message: 'Webhook updated successfully',
      webhook: { url: 'http://example.org/other', hasSecret: true },
    });
    expect(replaced.webhook.createdAt).toBe(first.body.data!.setWebhook.webhook.createdAt);
    expect((await t.gql(GET, { apiKey })).body.data!.webhook).toEqual(replaced.webhook);
  });

  it('never returns the secret, and stores it encrypted', async () => {
    const { apiKey, userId } = await t.register();
    const secret = 'plaintext-never-shown';
    const set = await t.gql(SET, { apiKey, variables: { input: { url: 'https://example.com/h', secret } } });
    const get = await t.gql(GET, { apiKey });
    expect(JSON.stringify(set.body)).not.toContain(secret);
    expect(JSON.stringify(get.body)).not.toContain(secret);
    expect(get.body.data!.webhook.hasSecret).toBe(true);
    const row = (await allWebhookRows()).find((r) => r.userId === userId)!;
    expect(row.secretCiphertext).not.toContain(secret);
    expect(row.secretCiphertext).not.toBe(Buffer.from(secret).toString('base64'));
    expect(t.secretBox.open({ ciphertext: row.secretCiphertext!, keyId: row.secretKeyId! })).toBe(secret);
  });

  it('seals the same secret differently each time (random IV)', async () => {
    const a = t.secretBox.seal('same');
    const b = t.secretBox.seal('same');
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('deletes the webhook, then reports WebhookNotFound', async () => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: 'https://example.com/h' } } });
    expect((await t.gql(DELETE, { apiKey })).body.data!.deleteWebhook).toEqual({
      __typename: 'DeleteWebhookSuccess',
      message: 'Webhook deleted successfully',
    });
    expect((await t.gql(GET, { apiKey })).body.data!.webhook).toBeNull();
    expect((await t.gql(DELETE, { apiKey })).body.data!.deleteWebhook).toEqual({
      __typename: 'WebhookNotFound',
      message: 'No webhook is configured for this account',
    });
  });

  it('keeps users apart: B neither reads nor deletes A’s webhook', async () => {
    const a = await t.register('A');
    const b = await t.register('B');
    await t.gql(SET, { apiKey: a.apiKey, variables: { input: { url: 'https://a.example.com/' } } });
    expect((await t.gql(GET, { apiKey: b.apiKey })).body.data!.webhook).toBeNull();
    expect((await t.gql(DELETE, { apiKey: b.apiKey })).body.data!.deleteWebhook.__typename).toBe('WebhookNotFound');
    expect((await t.gql(GET, { apiKey: a.apiKey })).body.data!.webhook.url).toBe('https://a.example.com/');
  });

  it('requires a key', async () => {
    const res = await t.gql(SET, { variables: { input: { url: 'https://example.com' } } });
    expect(res.status).toBe(401);
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('rejected webhook input changes nothing', () => {
  const rejected: [string, string, RegExp][] = [
    ['ftp scheme', 'ftp://example.com/hook', /scheme must be http or https/],
    ['ws scheme', 'ws://example.com/hook', /scheme must be http or https/],
    ['no host', 'http://', /not a valid absolute URL/],
    ['credentials', 'https://user:pass@example.com/hook', /credentials/],
    ['username only', 'https://user@example.com/hook', /credentials/],
    ['2049 characters', `https://example.com/${'a'.repeat(2049 - 'https://example.com/'.length)}`, /longer than 2048/],
    ['empty', '', /empty/],
    ['not a URL', 'example.com/hook', /not a valid absolute URL/],
    ['spaces', 'https://exa mple.com/', /whitespace/],
    ['relative', '/hook', /not a valid absolute URL/],
  ];

  it.each(rejected)('%s → InvalidWebhookUrl carrying the url', async (_name, url, reason) => {
    const { apiKey } = await t.register();
    await t.gql(SET, { apiKey, variables: { input: { url: 'https://kept.example.com/', secret: 'keep' } } });
    const before = await allWebhookRows();
    const res = await t.gql(SET, { apiKey, variables: { input: { url, secret: 'new' } } });
    expect(res.body.data!.setWebhook).toMatchObject({ __typename: 'InvalidWebhookUrl', url });
    expect(res.body.data!.setWebhook.message).toMatch(reason);
    expect(await allWebhookRows()).toEqual(before);
  });

  it('accepts exactly 2048 characters', async () => {
    const { apiKey } = await t.register();
    const url = `https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`;
    const res = await t.gql(SET, { apiKey, variables: { input: { url } } });
    expect(res.body.data!.setWebhook.__typename).toBe('SetWebhookSuccess');
  });

  it.each([
    ['empty', '', 'The secret must not be empty'],
    ['257 characters', 'x'.repeat(257), 'The secret must be at most 256 characters'],
    ['whsec_ and no base64', 'whsec_not*base64*at*all', NOT_BASE64],
    ['whsec_ and nothing', 'whsec_', NOT_BASE64],
    ['whsec_ and base64 missing its padding', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS', NOT_BASE64],
  ])('a %s secret → ValidationError with the field path', async (_name, secret, message) => {
    const { apiKey } = await t.register();
    const before = await allWebhookRows();
    const res = await t.gql(SET, { apiKey, variables: { input: { url: 'https://example.com/', secret } } });
    expect(res.body.data!.setWebhook).toEqual({
      __typename: 'ValidationError',
      message,
      fields: [{ path: ['input', 'secret'], message }],
    });
    expect(await allWebhookRows()).toEqual(before);
  });
});
