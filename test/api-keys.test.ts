import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import type { Database } from '../src/db/client.js';
import { users } from '../src/db/tables.js';
import { createLogger } from '../src/logger.js';
import { API_KEY_REMOVED_CHANNEL, createApiKeyCache } from '../src/modules/api-keys/api-key-cache.js';
import { hashApiKey } from '../src/modules/users/api-key.js';
import { movableClock } from './helpers/clock.js';
import { eventually } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

const KEYS = `{ apiKeys { id name prefix createdAt lastUsedAt } }`;
const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename
  ... on CreateApiKeySuccess { apiKey key { id name prefix createdAt lastUsedAt } }
  ... on ApiKeyLimitExceeded { message maxKeys }
  ... on ValidationError { message fields { path message } } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { __typename
  ... on RevokeApiKeySuccess { id message }
  ... on ApiKeyNotFound { id message }
  ... on LastApiKey { message } } }`;
const VIEWER = `{ viewer { id } }`;

const clock = movableClock();
let source: TestDatabaseSource;
let t: TestApp;
beforeAll(async () => {
  source = await createTestDatabaseSource();
  t = await createTestApp({ source, clock });
});
afterAll(async () => {
  await t.close();
  await source.destroy();
});

const create = async (apiKey: string, name: string) => (await t.gql(CREATE, { apiKey, variables: { input: { name } } })).body.data!.createApiKey;
const keysOf = async (apiKey: string) => (await t.gql(KEYS, { apiKey })).body.data!.apiKeys;

async function gqlOn(app: App, query: string, apiKey: string) {
  const response = await app.fetch('http://127.0.0.1/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: await response.json() };
}

describe('API keys', () => {
  it('lists the key from register as default, with its prefix, never the key', async () => {
    const { apiKey } = await t.register();
    const keys = await keysOf(apiKey);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ id: expect.any(String), name: 'default', prefix: `${apiKey.slice(0, 7)}…`, createdAt: expect.any(String) });
    expect(JSON.stringify(keys)).not.toContain(apiKey.slice(7));
  });

  it('creates named keys shown once that work at once, at most 10 per account', async () => {
    const { apiKey, userId } = await t.register();
    const created = await create(apiKey, '  ci deploy  ');
    expect(created).toMatchObject({ __typename: 'CreateApiKeySuccess', key: { name: 'ci deploy', lastUsedAt: null } });
    expect(created.apiKey).toMatch(/^aw_[A-Za-z0-9_-]{43}$/);
    expect(created.key.prefix).toBe(`${created.apiKey.slice(0, 7)}…`);
    expect((await t.gql(VIEWER, { apiKey: created.apiKey })).body.data!.viewer.id).toBe(userId);
    expect((await keysOf(apiKey)).map((k: { name: string }) => k.name)).toEqual(['default', 'ci deploy']);

    for (let i = 3; i <= 10; i++) expect((await create(apiKey, `key ${i}`)).__typename).toBe('CreateApiKeySuccess');
    expect(await create(apiKey, 'one too many')).toEqual({
      __typename: 'ApiKeyLimitExceeded',
      message: 'An account can have at most 10 API keys; revoke one first',
      maxKeys: 10,
    });
    expect(await keysOf(apiKey)).toHaveLength(10);
  });

  it('refuses an empty or overlong name and creates nothing', async () => {
    const { apiKey } = await t.register();
    for (const name of ['   ', 'x'.repeat(101)]) {
      const res = await create(apiKey, name);
      expect(res.__typename).toBe('ValidationError');
      expect(res.fields[0].path).toEqual(['input', 'name']);
    }
    expect(await keysOf(apiKey)).toHaveLength(1);
  });

  it('revokes a key at once, never the last one, never another user\'s', async () => {
    const { apiKey } = await t.register();
    const other = await t.register();
    const [own] = await keysOf(apiKey);
    expect((await t.gql(REVOKE, { apiKey, variables: { id: own.id } })).body.data!.revokeApiKey).toEqual({
      __typename: 'LastApiKey',
      message: 'This is the last API key of the account; create another one before revoking it',
    });
    const [theirs] = await keysOf(other.apiKey);
    for (const id of [theirs.id, 'not-a-uuid']) {
      expect((await t.gql(REVOKE, { apiKey, variables: { id } })).body.data!.revokeApiKey).toEqual({
        __typename: 'ApiKeyNotFound',
        id,
        message: `API key ${id} was not found`,
      });
    }
    expect((await t.gql(VIEWER, { apiKey: other.apiKey })).status).toBe(200);

    const second = await create(apiKey, 'replacement');
    expect((await t.gql(REVOKE, { apiKey: second.apiKey, variables: { id: own.id } })).body.data!.revokeApiKey).toEqual({
      __typename: 'RevokeApiKeySuccess',
      id: own.id,
      message: 'API key revoked',
    });
    const refused = await t.gql(VIEWER, { apiKey });
    expect(refused.status).toBe(401);
    expect(refused.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect((await keysOf(second.apiKey)).map((k: { name: string }) => k.name)).toEqual(['replacement']);
  });

  it('records lastUsedAt at most once a minute per key', async () => {
    const { apiKey } = await t.register();
    const first = await eventually(async () => {
      const [key] = await keysOf(apiKey);
      expect(key.lastUsedAt).not.toBeNull();
      return key.lastUsedAt as string;
    });
    await t.gql(VIEWER, { apiKey });
    expect((await keysOf(apiKey))[0].lastUsedAt).toBe(first);
    clock.advance(61_000);
    await t.gql(VIEWER, { apiKey });
    await eventually(async () => expect(Date.parse((await keysOf(apiKey))[0].lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(first) + 61_000));
  });
});

describe('revocation across processes', () => {
  let other: { app: App; database: Database; close(): Promise<void> };
  beforeAll(async () => {
    // A second app instance: on Postgres with its own connection pool (another process would
    // have one), on PGlite sharing the single in-process database.
    const database = backend === 'postgres' ? await source.open() : t.database;
    const app = createApp({ database, config: t.config, clock, logger: createLogger('silent'), secretBox: t.secretBox });
    other = {
      app,
      database,
      async close() {
        await app.dispose();
        if (database !== t.database) await database.close();
      },
    };
  });
  afterAll(() => other.close());

  /** Resolves once the second instance's connection has heard that `keyHash` was removed. */
  async function heardOnSecond(keyHash: string) {
    let heard: () => void = () => {};
    const done = new Promise<void>((resolve) => (heard = resolve));
    const unlisten = await other.database.listen(API_KEY_REMOVED_CHANNEL, (payload) => payload === keyHash && heard());
    return { done: done.finally(() => unlisten()) };
  }

  it('a key revoked on one instance is refused on the second as soon as its connection hears of it', async () => {
    const { apiKey, userId } = await t.register();
    const spare = await create(apiKey, 'spare');
    // The second instance has the key cached.
    expect((await gqlOn(other.app, VIEWER, apiKey)).body.data.viewer.id).toBe(userId);
    expect((await gqlOn(other.app, VIEWER, apiKey)).status).toBe(200);

    const [defaultKey] = await keysOf(apiKey);
    const heard = await heardOnSecond(hashApiKey(apiKey));
    expect((await t.gql(REVOKE, { apiKey: spare.apiKey, variables: { id: defaultKey.id } })).body.data!.revokeApiKey.__typename).toBe(
      'RevokeApiKeySuccess',
    );
    expect((await t.gql(VIEWER, { apiKey })).status).toBe(401);
    await heard.done;
    const refused = await gqlOn(other.app, VIEWER, apiKey);
    expect(refused.status).toBe(401);
    expect(refused.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await gqlOn(other.app, VIEWER, spare.apiKey)).status).toBe(200);
  });

  it('a removed user is refused on every instance', async () => {
    const { apiKey, userId } = await t.register();
    expect((await gqlOn(other.app, VIEWER, apiKey)).status).toBe(200);
    const heard = await heardOnSecond(hashApiKey(apiKey));
    await t.database.db.delete(users).where(eq(users.id, userId));
    await heard.done;
    expect((await gqlOn(other.app, VIEWER, apiKey)).status).toBe(401);
  });
});

describe('the per-process key cache', () => {
  it('asks the database again once its entry is older than the TTL, even if a revocation went unheard', async () => {
    const cacheClock = movableClock();
    let loads = 0;
    const cache = createApiKeyCache({
      // A connection that subscribes once and never delivers a NOTIFY.
      listen: async (_channel, _onPayload, onListen) => {
        onListen?.();
        return async () => {};
      },
      clock: cacheClock,
      logger: createLogger('silent'),
      ttlMs: 30_000,
      load: async () => {
        loads++;
        return { keyId: 'k', user: { id: 'u', name: 'n', email: 'e', createdAt: new Date() } };
      },
    });
    await cache.get('hash');
    await cache.get('hash');
    expect(loads).toBe(1);
    cacheClock.advance(30_001);
    await cache.get('hash');
    expect(loads).toBe(2);
    cache.forget('hash');
    await cache.get('hash');
    expect(loads).toBe(3);
    await cache.close();
  });

  it('caches only once subscribed, and starts empty each time the subscription is re-established', async () => {
    let loads = 0;
    let resubscribe: () => void = () => {};
    const cache = createApiKeyCache({
      listen: async (_channel, _onPayload, onListen) => {
        resubscribe = () => onListen?.();
        return async () => {};
      },
      clock: movableClock(),
      logger: createLogger('silent'),
      load: async () => {
        loads++;
        return { keyId: 'k', user: { id: 'u', name: 'n', email: 'e', createdAt: new Date() } };
      },
    });
    // LISTEN sent but not yet confirmed: nothing is cached.
    await cache.get('hash');
    await cache.get('hash');
    expect(loads).toBe(2);
    resubscribe();
    await cache.get('hash');
    await cache.get('hash');
    expect(loads).toBe(3);
    // The connection was lost and is listening again: removals in between went unheard.
    resubscribe();
    await cache.get('hash');
    expect(loads).toBe(4);
    await cache.close();
  });

  it('hears every (re)subscribe of the real connection: after the listening connection is cut, the cache starts empty', async () => {
    let loads = 0;
    let subscribes = 0;
    let resubscribed: () => void = () => {};
    const again = new Promise<void>((resolve) => (resubscribed = resolve));
    const cache = createApiKeyCache({
      listen: (channel, onPayload, onListen) =>
        t.database.listen(channel, onPayload, () => {
          onListen?.();
          if (++subscribes === 2) resubscribed();
        }),
      clock: movableClock(),
      logger: createLogger('silent'),
      load: async () => {
        loads++;
        return { keyId: 'k', user: { id: 'u', name: 'n', email: 'e', createdAt: new Date() } };
      },
    });
    try {
      await cache.get('hash');
      await cache.get('hash');
      expect({ loads, subscribes }).toEqual({ loads: 1, subscribes: 1 });
      if (backend === 'postgres') {
        // postgres.js reconnects its listening connection and sends LISTEN again.
        await t.database.db.execute(
          sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen %' and pid <> pg_backend_pid()`,
        );
        await again;
        await cache.get('hash');
        expect({ loads, subscribes }).toEqual({ loads: 2, subscribes: 2 });
      } else {
        // PGlite is in-process: its subscription cannot be lost, and the entry stays.
        await cache.get('hash');
        expect({ loads, subscribes }).toEqual({ loads: 1, subscribes: 1 });
      }
    } finally {
      await cache.close();
    }
  });
});

describe('the migration of existing keys', () => {
  it("moves a user's stored key hash into api_keys as its default key", async () => {
    const legacyKey = 'aw_legacy-key-from-before-named-keys-existed-0001';
    const [user] = await t.database.db
      .insert(users)
      .values({ name: 'Old', email: `old-${Date.now()}@example.com`, apiKeyHash: hashApiKey(legacyKey), createdAt: new Date() })
      .returning();
    // The custom migration, run again over a row written the old way (its trigger exists already).
    const migration = readFileSync(new URL('../drizzle/0003_api_keys_move.sql', import.meta.url), 'utf8');
    for (const statement of migration.split('--> statement-breakpoint').filter((s) => !s.includes('CREATE TRIGGER'))) {
      await t.database.db.execute(sql.raw(statement));
    }
    expect((await t.gql(VIEWER, { apiKey: legacyKey })).body.data!.viewer.id).toBe(user!.id);
    expect(await keysOf(legacyKey)).toEqual([expect.objectContaining({ name: 'default', prefix: 'aw_…' })]);
    // The previous release still reads the column (rolling deploy, rollback): it stays for one release.
    const [row] = await t.database.db.select().from(users).where(eq(users.id, user!.id));
    expect(row!.apiKeyHash).toBe(hashApiKey(legacyKey));
  });

  it('a key a previous-release process stored only in users.api_key_hash works, moved into api_keys on first use', async () => {
    const legacyKey = 'aw_registered-by-an-old-process-during-the-rollout-02';
    const [user] = await t.database.db
      .insert(users)
      .values({ name: 'Rollout', email: `rollout-${Date.now()}@example.com`, apiKeyHash: hashApiKey(legacyKey), createdAt: new Date() })
      .returning();
    const [first, second] = await Promise.all([t.gql(VIEWER, { apiKey: legacyKey }), t.gql(VIEWER, { apiKey: legacyKey })]);
    expect(first.body.data!.viewer.id).toBe(user!.id);
    expect(second.body.data!.viewer.id).toBe(user!.id);
    expect(await keysOf(legacyKey)).toEqual([expect.objectContaining({ name: 'default', prefix: 'aw_…' })]);
  });

  it('registration also writes users.api_key_hash, so the previous release still authenticates the user after a rollback; revoking clears it', async () => {
    const user = await t.register();
    const legacyRow = async () => (await t.database.db.select().from(users).where(eq(users.id, user.userId)))[0]!;
    // What the previous release does to authenticate: look the hash up in users.
    expect((await legacyRow()).apiKeyHash).toBe(hashApiKey(user.apiKey));
    const spare = await create(user.apiKey, 'spare');
    const [first] = (await keysOf(user.apiKey)).filter((k: { name: string }) => k.name === 'default');
    expect((await t.gql(REVOKE, { apiKey: spare.apiKey, variables: { id: first.id } })).body.data!.revokeApiKey.__typename).toBe('RevokeApiKeySuccess');
    expect((await legacyRow()).apiKeyHash).toBeNull();
  });

  it('a moved legacy key, once revoked, does not come back from users.api_key_hash', async () => {
    const legacyKey = 'aw_revoked-legacy-key-must-stay-revoked-000000003';
    const [user] = await t.database.db
      .insert(users)
      .values({ name: 'Revoker', email: `revoker-${Date.now()}@example.com`, apiKeyHash: hashApiKey(legacyKey), createdAt: new Date() })
      .returning();
    const spare = await create(legacyKey, 'spare');
    const [legacy] = (await keysOf(legacyKey)).filter((k: { name: string }) => k.name === 'default');
    expect((await t.gql(REVOKE, { apiKey: spare.apiKey, variables: { id: legacy.id } })).body.data!.revokeApiKey.__typename).toBe('RevokeApiKeySuccess');
    expect((await t.gql(VIEWER, { apiKey: legacyKey })).status).toBe(401);
    const [row] = await t.database.db.select().from(users).where(eq(users.id, user!.id));
    expect(row!.apiKeyHash).toBeNull();
  });
});
