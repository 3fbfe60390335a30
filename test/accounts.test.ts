import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/modules/users/api-key.js';
import { apiKeys, users } from '../src/db/tables.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { apiKey user { id name email createdAt } } }`;
const VIEWER = `{ viewer { id name email createdAt } }`;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('register', () => {
  it('creates a user and returns a prefixed, high-entropy API key once', async () => {
    const res = await t.gql(REGISTER, { variables: { input: { name: 'Ada', email: 'Ada@Example.com' } } });
    expect(res.status).toBe(200);
    const { apiKey, user } = res.body.data!.register;
    expect(apiKey).toMatch(/^aw_[A-Za-z0-9_-]{43}$/);
    expect(user).toMatchObject({ name: 'Ada', email: 'ada@example.com' });
    expect(new Date(user.createdAt).toISOString()).toBe(user.createdAt);
  });

  it('stores only the SHA-256 hash of the key, as the user\'s key named default', async () => {
    const { apiKey, userId } = await t.register();
    const keys = await t.database.db.select().from(apiKeys);
    const row = keys.find((r) => r.userId === userId)!;
    expect(row).toMatchObject({ name: 'default', keyHash: hashApiKey(apiKey), prefix: apiKey.slice(0, 7) });
    expect(JSON.stringify(keys)).not.toContain(apiKey);
    expect(JSON.stringify(await t.database.db.select().from(users))).not.toContain(apiKey);
  });

  it('rejects a malformed email as BAD_USER_INPUT with the field path, creating nothing', async () => {
    const before = (await t.database.db.select().from(users)).length;
    const res = await t.gql(REGISTER, { variables: { input: { name: 'Bob', email: 'not-an-email' } } });
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(res.body.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [{ path: ['input', 'email'], message: 'Email must be a valid email address' }],
    });
    expect((await t.database.db.select().from(users)).length).toBe(before);
  });

  it('rejects an empty name', async () => {
    const res = await t.gql(REGISTER, { variables: { input: { name: '  ', email: 'ok@example.com' } } });
    expect(res.body.errors![0]!.extensions!.fields).toEqual([{ path: ['input', 'name'], message: 'Name must not be empty' }]);
  });

  it('rejects an email that is already registered, in any letter case', async () => {
    const input = { name: 'Cy', email: 'cy@example.com' };
    expect((await t.gql(REGISTER, { variables: { input } })).body.data?.register.apiKey).toBeTruthy();
    const again = await t.gql(REGISTER, { variables: { input: { ...input, email: 'CY@example.com' } } });
    expect(again.body.errors![0]!.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: [{ path: ['input', 'email'], message: 'This email is already registered' }],
    });
  });

  it('answers concurrent registrations of one email with one user and one clear error', async () => {
    const input = { name: 'Dee', email: 'dee@example.com' };
    const results = await Promise.all([1, 2, 3].map(() => t.gql(REGISTER, { variables: { input } })));
    expect(results.filter((r) => r.body.data?.register).length).toBe(1);
    for (const r of results.filter((r) => !r.body.data?.register)) {
      expect(r.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('authentication', () => {
  it('accepts the key in X-API-Key and as a Bearer token', async () => {
    const { apiKey, userId } = await t.register('Eve');
    const viaHeader = await t.gql(VIEWER, { apiKey });
    expect(viaHeader.body.data!.viewer).toMatchObject({ id: userId, name: 'Eve' });
    const viaBearer = await t.gql(VIEWER, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(viaBearer.body.data!.viewer.id).toBe(userId);
  });

  it('answers 401 UNAUTHENTICATED without a key', async () => {
    const res = await t.gql(VIEWER);
    expect(res.status).toBe(401);
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect(res.body.errors![0]!.message).toMatch(/X-API-Key/);
  });

  it('answers 401 UNAUTHENTICATED with a wrong key', async () => {
    const res = await t.gql(VIEWER, { apiKey: 'aw_wrong' });
    expect(res.status).toBe(401);
    expect(res.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });

  it("shows each key its own user, never another user's", async () => {
    const a = await t.register('A');
    const b = await t.register('B');
    expect((await t.gql(VIEWER, { apiKey: a.apiKey })).body.data!.viewer.id).toBe(a.userId);
    expect((await t.gql(VIEWER, { apiKey: b.apiKey })).body.data!.viewer.id).toBe(b.userId);
  });

  it('keeps register public while other fields need a key', async () => {
    const res = await t.gql(REGISTER, { variables: { input: { name: 'Fay', email: 'fay@example.com' } } });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
  });
});
