import { readdirSync, readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { getIntrospectionQuery, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHQL_LIMITS } from '../src/http/graphql-limits.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const messages = (res: Awaited<ReturnType<TestApp['gql']>>) => (res.body.errors ?? []).map((e) => e.message);

describe('GraphQL limits', () => {
  it('refuses an operation deeper than the limit', async () => {
    const deep = `{ viewer ${'{ a '.repeat(GRAPHQL_LIMITS.maxDepth)}${'}'.repeat(GRAPHQL_LIMITS.maxDepth)} }`;
    const res = await t.gql(deep);
    expect(res.body.data).toBeUndefined();
    expect(messages(res)).toContain(`Query depth limit of ${GRAPHQL_LIMITS.maxDepth} exceeded, found ${GRAPHQL_LIMITS.maxDepth + 1}.`);
  });

  it('refuses an operation that costs more than the limit (fragments multiply)', async () => {
    const fragments = Array.from({ length: 12 }, (_, i) =>
      i === 0 ? `fragment F0 on Query { viewer { id name email } }` : `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`,
    );
    const res = await t.gql(`{ ...F11 } ${fragments.join(' ')}`);
    expect(res.body.data).toBeUndefined();
    expect(messages(res).join('\n')).toMatch(new RegExp(`Query Cost limit of ${GRAPHQL_LIMITS.maxCost} exceeded`));
  });

  it('refuses more aliases than the limit, with a coded validation error', async () => {
    const n = GRAPHQL_LIMITS.maxAliases + 1;
    const res = await t.gql(`{ ${Array.from({ length: n }, (_, i) => `v${i}: viewer { id }`).join(' ')} }`);
    expect(res.body.errors).toEqual([
      { message: `Aliases limit of ${GRAPHQL_LIMITS.maxAliases} exceeded, found ${n}.`, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
    ]);
  });

  it('refuses more directives than the limit', async () => {
    const n = GRAPHQL_LIMITS.maxDirectives + 1;
    const res = await t.gql(`{ ${Array.from({ length: n }, (_, i) => `t${i}: __typename @include(if: true)`).join(' ')} }`);
    expect(messages(res)).toContain(`Directives limit of ${GRAPHQL_LIMITS.maxDirectives} exceeded, found ${n}.`);
  });

  it('refuses a document with more tokens than the limit, before parsing it all', async () => {
    const res = await t.gql(`{ ${'__typename '.repeat(GRAPHQL_LIMITS.maxTokens)} }`);
    expect(res.body.errors![0]).toMatchObject({
      message: `Syntax Error: Token limit of ${GRAPHQL_LIMITS.maxTokens} exceeded.`,
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
  });

  it("lets every client operation of the contract and GraphiQL's introspection query through", async () => {
    const dir = new URL('../operations/', import.meta.url);
    const documents = readdirSync(dir)
      .filter((f) => f.endsWith('.graphql'))
      .map((f) => readFileSync(new URL(f, dir), 'utf8'));
    const { apiKey } = await t.register();
    for (const document of documents) {
      for (const op of parse(document).definitions) {
        if (op.kind !== 'OperationDefinition' || op.operation === 'subscription') continue;
        const res = await t.app.fetch('http://127.0.0.1/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
          body: JSON.stringify({ query: document, operationName: op.name?.value }),
        });
        const text = await res.text();
        expect(text, op.name?.value).not.toMatch(/limit of \d+ exceeded/);
      }
    }
    const introspection = await t.gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }));
    expect(introspection.body.errors).toBeUndefined();
    expect(introspection.body.data!.__schema.queryType.name).toBe('Query');
  });
});

describe('schema exposure', () => {
  it('suggests field names in development and not in production', async () => {
    const dev = await t.gql(`{ viewr { id } }`);
    expect(messages(dev)[0]).toMatch(/Did you mean "viewer"\?/);
    const prod = await createTestApp({ env: { NODE_ENV: 'production' } });
    try {
      const res = await prod.gql(`{ viewr { id } }`);
      expect(messages(res)[0]).toMatch(/Cannot query field "viewr"/);
      expect(messages(res)[0]).not.toMatch(/Did you mean|viewer/);
    } finally {
      await prod.close();
    }
  });

  it('keeps introspection on by default, and INTROSPECTION=false turns it off', async () => {
    expect((await t.gql(`{ __schema { queryType { name } } }`)).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const closed = await createTestApp({ env: { INTROSPECTION: 'false' } });
    try {
      const res = await closed.gql(`{ __schema { queryType { name } } }`);
      expect(res.body.data).toBeUndefined();
      expect(messages(res)[0]).toMatch(/introspection/i);
      expect((await closed.gql(`{ __type(name: "User") { name } }`)).body.data).toBeUndefined();
      const { apiKey, userId } = await closed.register();
      expect((await closed.gql(`{ viewer { id } }`, { apiKey })).body.data!.viewer.id).toBe(userId);
    } finally {
      await closed.close();
    }
  });
});

describe('transport', () => {
  it('does not batch: an array of operations is refused with 400', async () => {
    const res = await t.app.fetch('http://127.0.0.1/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toBe('Batching is not supported.');
  });
});

describe('masked errors', () => {
  it('answers an unexpected failure with only "Unexpected error.", INTERNAL and a request id that the log shares', async () => {
    const { apiKey } = await t.register();
    await t.database.db.execute(sql`alter table webhooks rename to webhooks_hidden`);
    let res;
    try {
      res = await t.gql(`{ webhook { url } }`, { apiKey });
    } finally {
      await t.database.db.execute(sql`alter table webhooks_hidden rename to webhooks`);
    }
    expect(res.status).toBe(200);
    const [error, ...others] = res.body.errors!;
    expect(others).toEqual([]);
    expect(error!.message).toBe('Unexpected error.');
    expect(Object.keys(error!.extensions!).sort()).toEqual(['code', 'requestId']);
    expect(error!.extensions!.code).toBe('INTERNAL');
    expect(JSON.stringify(res.body)).not.toMatch(/webhooks|relation|select/i);

    expect(res.headers.get('x-request-id')).toBe(error!.extensions!.requestId);
    const logged = t.logs.find((l) => l.requestId === error!.extensions!.requestId);
    expect(logged).toMatchObject({ level: 'error', msg: 'unexpected error' });
    expect(JSON.stringify(logged)).toMatch(/webhooks/);
  });
});

describe('request id', () => {
  it('answers every request with a new X-Request-Id', async () => {
    const [a, b] = await Promise.all([t.gql('{ __typename }'), t.gql('{ __typename }')]);
    expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.headers.get('x-request-id')).not.toBe(a.headers.get('x-request-id'));
  });

  // yoga answers these itself, before any plugin of ours sees the request.
  it('answers /health and the GraphiQL page with one too', async () => {
    const health = await t.app.fetch('http://127.0.0.1/health', { headers: { 'x-request-id': 'probe-1' } });
    expect(health.status).toBe(200);
    expect(health.headers.get('x-request-id')).toBe('probe-1');
    const page = await t.app.fetch('http://127.0.0.1/graphql', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("keeps a proxy's short, plain X-Request-Id and replaces any other", async () => {
    const kept = await t.gql('{ __typename }', { headers: { 'x-request-id': 'edge-7f3a.9:1' } });
    expect(kept.headers.get('x-request-id')).toBe('edge-7f3a.9:1');
    for (const bad of ['a'.repeat(129), 'has space', 'quote"d', '']) {
      const res = await t.gql('{ __typename }', { headers: { 'x-request-id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
