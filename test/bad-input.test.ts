import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../src/http/request-body.plugin.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let apiKey: string;
beforeAll(async () => {
  t = await createTestApp();
  ({ apiKey } = await t.register('Target'));
  const set = `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`;
  await t.gql(set, { apiKey, variables: { input: { url: 'https://example.com/hook', secret: 'kept-secret' } } });
});
afterAll(() => t.close());

/** Every row of every table, as text. */
async function snapshot(): Promise<string> {
  const rowsOf = (r: unknown) => (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Record<string, unknown>[];
  const tables = rowsOf(
    await t.database.db.execute(
      sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
    ),
  ).map((r) => String(r.table_name));
  const dump: Record<string, unknown[]> = {};
  for (const table of tables) dump[table] = rowsOf(await t.database.db.execute(sql.raw(`select * from "${table}" order by 1`)));
  return JSON.stringify(dump);
}

interface Case {
  name: string;
  url?: string;
  init: RequestInit;
}

const MUTATIONS = {
  register: `mutation($input: RegisterInput!) { register(input: $input) { apiKey } }`,
  setWebhook: `mutation($input: SetWebhookInput!) { setWebhook(input: $input) { __typename } }`,
  createAlert: `mutation($input: CreateAlertInput!) { createAlert(input: $input) { __typename } }`,
  deleteAlert: `mutation($input: ID!) { deleteAlert(id: $input) { __typename } }`,
  redeliver: `mutation($input: ID!) { redeliverWebhookDelivery(id: $input) { __typename } }`,
  upsertQuotes: `mutation($input: [QuoteInput!]!) { upsertQuotes(input: $input) { __typename } }`,
};

const HUGE_STRING = 'x'.repeat(90_000);
const deepJson = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

/** Values no input of the schema accepts in the position they are sent to. */
const BAD_VALUES: unknown[] = [
  null, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, true, '', 'x', [], [1, 2], {}, { unknownField: 1 }, [[[[[]]]]],
  HUGE_STRING, 'nul\u0000byte', 'lone \ud800 surrogate', '\u202e\u200b', '<script>alert(1)</script>', "'; drop table users; --",
];

/** Input objects of the right shape with one wrong part each (never a valid request). */
const BAD_INPUTS: Record<string, unknown[]> = {
  register: [
    { name: 5, email: 'n@example.com' }, { name: 'A', email: 5 }, { name: 'A' }, { email: 'a@example.com' },
    { name: HUGE_STRING, email: 'huge@example.com' }, { name: 'A', email: `${HUGE_STRING}@example.com` },
    { name: 'A', email: 'not-an-email' }, { name: 'A\u0000', email: 'nul@example.com' }, { name: 'A', email: 'a@example.com', admin: true },
    { name: ['A'], email: 'arr@example.com' }, { name: { first: 'A' }, email: 'obj@example.com' }, { name: '', email: '' },
  ],
  setWebhook: [
    { url: HUGE_STRING }, { url: `https://example.com/${HUGE_STRING}` }, { url: 'javascript:alert(1)' }, { url: 'file:///etc/passwd' },
    { url: 'https://user:pw@example.com/' }, { url: 5 }, { url: null }, { url: 'https://example.com/', secret: '' },
    { url: 'https://example.com/', secret: HUGE_STRING }, { url: 'https://example.com/', secret: 'a\u0000b' },
    { url: 'https://example.com/\u0000' }, { url: 'https://example.com/', secret: 5 }, { url: 'https://example.com/', extra: 1 },
  ],
  createAlert: [
    { alertType: 'PRICE_THRESHOLD', ticker: 'not a ticker', targetPrice: 1e308, direction: 'ABOVE' },
    { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: -1, direction: 'ABOVE' },
    { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: 10, direction: 'SIDEWAYS' },
    { alertType: 'NOT_A_TYPE', ticker: 'AAPL' }, { alertType: 'PRICE_CHANGE_PERCENT', ticker: 'AAPL', thresholdPercent: -5 },
    { alertType: 'SIGNAL_CHANGE', ticker: 'AAPL', targetSignal: 'MAYBE' }, { alertType: 'PRICE_THRESHOLD', ticker: HUGE_STRING },
    { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL\u0000', targetPrice: 1, direction: 'ABOVE' },
    { alertType: 'PRICE_THRESHOLD', ticker: 'AAPL', targetPrice: '1e999', direction: 'ABOVE' },
  ],
  upsertQuotes: [
    [{ ticker: 'AAPL', price: 1 }], [{ ticker: 'AAPL', price: -1 }], [{ ticker: 5, price: 'x' }], [{ ticker: 'AAPL', price: 1, asOf: 'yesterday' }],
  ],
};

function buildCases(): Case[] {
  const cases: Case[] = [];
  const post = (name: string, body: BodyInit, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    cases.push({ name, init: { method: 'POST', headers: { 'x-api-key': apiKey, ...headers }, body } });
  const operation = (name: string, query: string, variables?: unknown) => post(name, JSON.stringify({ query, variables }));

  // Broken JSON and wrong request shapes.
  const q = '{ viewer { id } }';
  for (const body of [
    '', '{', '}', '[', ']', '"', 'nul', 'null', 'true', '1', '"str"', '[]', '[{}]', '{"query"', '{"query":}', '{"query": "{"',
    `{"query": "${q}",}`, `{'query': '${q}'}`, '{"query": 5}', '{"query": null}', `{"query": ["${q}"]}`, '{"query": {"a": 1}}',
    `{"query": "${q}", "variables": "x"}`, `{"query": "${q}", "variables": [1]}`, `{"query": "${q}", "operationName": 5}`,
    `{"query": "${q}", "extensions": 5}`, '{"query": "\\ud800"}', '{"query": "\\u0000"}', `{"query": "${q}"} trailing`,
    deepJson(20_000), deepObject(10_000), `{"query": "${q}", "variables": ${deepJson(20_000)}}`, '\u0000\u0000\u0000',
  ]) {
    post(`broken JSON ${JSON.stringify(body.slice(0, 30))}`, body);
  }
  // Invalid UTF-8 (lone continuation bytes, overlong encodings, truncated sequences).
  for (const bytes of [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]]) {
    const prefix = Buffer.from('{"query": "mutation { register(input: {name: \\"');
    const suffix = Buffer.from('\\", email: \\"utf8@example.com\\"}) { apiKey } }"}');
    post(`invalid UTF-8 ${bytes.map((b) => b.toString(16)).join(' ')}`, Buffer.concat([prefix, Buffer.from(bytes), suffix]));
  }
  // Broken GraphQL documents.
  for (const query of [
    '', ' ', '{', '}', '{ viewer { id }', 'query {', 'mutation', 'subscription { }', '{ viewer { id } } { viewer { id } }',
    '{ unknownField }', '{ viewer { unknownField } }', '{ viewer { id(arg: 1) } }', 'query($x: Unknown) { viewer { id } }',
    'fragment F on Query { ...F } { ...F }', `{ viewer { id } ${'a'.repeat(50_000)} }`, `{ ${'viewer { '.repeat(3000)}${'}'.repeat(3000)} }`,
    `{ quote(ticker: ${'['.repeat(2000)}"A"${']'.repeat(2000)}) { price } }`, '{ quote(ticker: "\\u0000") { price } }',
    '{ quote(ticker: "AAPL\u0000") { price } }', '{ __typename @unknown }', '{ viewer @skip(if: "yes") { id } }', 'query { viewer { id } } mutation { deleteWebhook { __typename } }',
  ]) {
    operation(`document ${JSON.stringify(query.slice(0, 40))}`, query);
  }
  // Every mutation with values of the wrong type, and inputs with one wrong part.
  for (const [field, query] of Object.entries(MUTATIONS)) {
    for (const value of BAD_VALUES) operation(`${field}(${JSON.stringify(value)?.slice(0, 30)})`, query, { input: value });
    for (const input of BAD_INPUTS[field] ?? []) operation(`${field}(${JSON.stringify(input).slice(0, 60)})`, query, { input });
    post(`${field} with 1e999`, `{"query": ${JSON.stringify(query)}, "variables": {"input": 1e999}}`);
  }
  // Wrong content types and methods.
  const body = JSON.stringify({ query: MUTATIONS.register, variables: { input: { name: 'Ct', email: 'ct@example.com' } } });
  for (const contentType of [
    'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'text/html',
    'application/octet-stream', 'image/png', 'application/json; charset=utf-16',
  ]) {
    post(`content type ${contentType}`, body, { 'content-type': contentType });
  }
  cases.push({ name: 'no content type', init: { method: 'POST', body } });
  for (const method of ['PUT', 'PATCH', 'DELETE']) {
    cases.push({ name: `method ${method}`, init: { method, headers: { 'content-type': 'application/json' }, body } });
  }
  // Mutations over GET, with and without a CSRF header, and broken GET parameters.
  const get = (name: string, query: string, headers: Record<string, string> = { 'x-graphql-yoga-csrf': '1' }) =>
    cases.push({ name, url: `http://127.0.0.1/graphql?${query}`, init: { headers: { 'x-api-key': apiKey, ...headers } } });
  for (const mutation of [...Object.values(MUTATIONS), 'mutation { deleteWebhook { __typename } }', 'mutation { sendTestWebhook { __typename } }']) {
    get(`GET ${mutation.slice(0, 40)}`, `query=${encodeURIComponent(mutation)}&variables=${encodeURIComponent('{"input":{"name":"G","email":"g@example.com"}}')}`);
    get(`GET without CSRF header ${mutation.slice(0, 30)}`, `query=${encodeURIComponent(mutation)}`, { accept: 'application/json' });
  }
  for (const params of ['', 'query=', 'query={', `query=${encodeURIComponent(q)}&variables=notjson`, `query=${encodeURIComponent(q)}&extensions=[`, 'variables={}']) {
    get(`GET ?${params.slice(0, 40)}`, params);
  }
  // Oversized bodies.
  post('oversized JSON', JSON.stringify({ query: q, variables: { pad: 'x'.repeat(MAX_BODY_BYTES) } }));
  post('oversized document', JSON.stringify({ query: `{ viewer { id } } # ${'x'.repeat(MAX_BODY_BYTES)}` }));
  return cases;
}

describe('malformed requests', () => {
  it('each gets a 4xx or a coded GraphQL error, never a 5xx, and no row changes', async () => {
    const cases = buildCases();
    expect(cases.length).toBeGreaterThan(250);
    const before = await snapshot();
    const failures: string[] = [];
    for (const { name, url, init } of cases) {
      const res = await t.app.fetch(url ?? 'http://127.0.0.1/graphql', init);
      const text = await res.text();
      if (res.status >= 500) failures.push(`${name}: HTTP ${res.status} ${text.slice(0, 200)}`);
      if (res.status >= 400) continue;
      const body = JSON.parse(text) as { data?: Record<string, { __typename?: string } | null> | null; errors?: { extensions?: { code?: unknown } }[] };
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      const typedErrors = Object.values(body.data ?? {}).filter((v) => v?.__typename && !v.__typename.endsWith('Success'));
      if (codes.length === 0 && typedErrors.length === 0) failures.push(`${name}: 2xx without an error ${text.slice(0, 200)}`);
      if (codes.some((c) => typeof c !== 'string' || c === 'INTERNAL')) failures.push(`${name}: uncoded or internal ${text.slice(0, 200)}`);
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('variables that do not fit their types: 400 with code BAD_USER_INPUT, like any other bad input', async () => {
    const query = 'query($t: String!) { quote(ticker: $t) { price } }';
    for (const variables of [{ t: 123 }, {}, { t: null }]) {
      const res = await t.app.fetch('http://127.0.0.1/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ query, variables }),
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { data?: unknown; errors: { message: string; extensions?: { code?: string } }[] };
      expect(body.data).toBeUndefined();
      expect(body.errors.map((e) => [e.message.startsWith('Variable "$t"'), e.extensions?.code])).toEqual([[true, 'BAD_USER_INPUT']]);
    }
  });

  it('leaves the server up and serving', async () => {
    expect((await t.app.fetch('http://127.0.0.1/health')).status).toBe(200);
    expect((await t.gql(`{ viewer { name } }`, { apiKey })).body).toEqual({ data: { viewer: { name: 'Target' } } });
  });
});
