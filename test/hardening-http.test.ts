import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../src/db/tables.js';
import { MAX_BODY_BYTES } from '../src/http/request-body.plugin.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

let t: TestApp;
let server: Server;
let port: number;
beforeAll(async () => {
  t = await createTestApp();
  server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

/** A raw HTTP POST over a socket: `chunks` are written one by one, so the body may be chunked. */
function post(headers: Record<string, string>, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // agent: false — a fresh connection each time, so an unread body never bleeds into the next request.
    const options = { port, host: '127.0.0.1', path: '/graphql', method: 'POST', headers, agent: false };
    const req = request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    // The server may answer (and close) before the whole body is sent; the answer is what counts.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const padded = (bytes: number) => JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(bytes) } });

describe('request bodies over 100 kB', () => {
  it('are refused with 413 from Content-Length alone, before the body arrives', async () => {
    const res = await post({ ...JSON_HEADERS, 'content-length': String(MAX_BODY_BYTES + 1) }, []);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).errors[0].message).toBe('The request body is larger than 100 kB');
  });

  it('are refused with 413 when chunked, by counting the bytes as they stream in', async () => {
    const body = padded(MAX_BODY_BYTES);
    const chunks = body.match(/[\s\S]{1,8192}/g)!;
    const res = await post({ ...JSON_HEADERS, 'transfer-encoding': 'chunked' }, chunks);
    expect(res.status).toBe(413);
  });

  it('are accepted up to the limit, chunked or not', async () => {
    const body = padded(MAX_BODY_BYTES - 200);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const plain = await post({ ...JSON_HEADERS, 'content-length': String(Buffer.byteLength(body)) }, [body]);
    expect(plain).toEqual({ status: 200, body: '{"data":{"__typename":"Query"}}' });
    const chunked = await post({ ...JSON_HEADERS, 'transfer-encoding': 'chunked' }, body.match(/[\s\S]{1,4096}/g)!);
    expect(chunked.status).toBe(200);
  });
});

describe('media types', () => {
  const register = (accept: string, email: string) =>
    t.app.fetch('http://127.0.0.1/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body: JSON.stringify({ query: `mutation { register(input: { name: "Accept", email: "${email}" }) { apiKey } }` }),
    });

  // yoga picked the answer's type after running the operation: the account was made, and the
  // client, answered an empty 406, never saw its key.
  it('refuses an Accept that allows none of the answer types with a typed 406, before anything runs', async () => {
    const before = await t.database.db.select().from(users);
    const res = await register('application/xml', 'accept-xml@example.com');
    expect(res.status).toBe(406);
    expect(res.headers.get('accept')).toBe('text/event-stream, multipart/mixed, application/graphql-response+json, application/json');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect((await res.json()).errors).toEqual([
      {
        message:
          'The Accept header allows none of the types this server answers in: application/graphql-response+json, application/json (and text/event-stream or multipart/mixed for streams)',
        extensions: { code: 'BAD_REQUEST' },
      },
    ]);
    expect(await t.database.db.select().from(users)).toEqual(before);
    // Only UTF-8 is answered: another charset is no match either.
    expect((await register('application/json; charset=latin1', 'accept-latin1@example.com')).status).toBe(406);
    expect(await t.database.db.select().from(users)).toEqual(before);
    // The same address is free for a request that can read the answer.
    const ok = await register('application/json', 'accept-xml@example.com');
    expect((await ok.json()).data.register.apiKey).toMatch(/^aw_/);
  });

  it.each([
    ['Apollo Client', 'application/graphql-response+json,application/json;q=0.9'],
    ['urql', 'application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed'],
    ['GraphiQL', 'application/json, multipart/mixed'],
    ['curl', '*/*'],
    ['graphql-sse', 'text/event-stream'],
    // yoga reads an empty Accept as */*, as it does a missing one.
    ['an empty Accept header', ''],
    ['no Accept header', null],
  ])('answers what %s asks for', async (_client, accept) => {
    const body = JSON.stringify({ query: '{ __typename }' });
    const res = await post({ 'content-type': 'application/json', ...(accept === null ? {} : { accept }) }, [body]);
    expect(res.status).toBe(200);
    expect(res.body).toContain('"__typename":"Query"');
  });

  // The newcomer's first mistake: curl -d without -H 'content-type: application/json'.
  it('says so when a JSON body comes as a form', async () => {
    const { apiKey } = await t.register();
    const res = await post({ 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': apiKey }, ['{"query":"{ viewer { id } }"}']);
    expect(res.status).toBe(415);
    expect(JSON.parse(res.body).errors).toEqual([
      {
        message: 'The body is JSON but its Content-Type says it is a form (as curl -d sends it): add the header Content-Type: application/json',
        extensions: { code: 'BAD_REQUEST' },
      },
    ]);
    // A real form still works, as before.
    const form = await post({ 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': apiKey }, [`query=${encodeURIComponent('{ __typename }')}`]);
    expect(form).toEqual({ status: 200, body: '{"data":{"__typename":"Query"}}' });
  });

  it('answers a body it cannot read with a typed 415', async () => {
    const cases: Record<string, string>[] = [{ 'content-type': 'application/xml', 'x-api-key': 'k' }, { 'x-api-key': 'k' }];
    for (const headers of cases) {
      const res = await post(headers, ['<query/>']);
      expect(res.status).toBe(415);
      expect(JSON.parse(res.body).errors).toEqual([
        {
          message: 'Send the operation as a JSON body with Content-Type: application/json, or as a GET with query parameters',
          extensions: { code: 'BAD_REQUEST' },
        },
      ]);
    }
  });
});

describe('CSRF prevention', () => {
  const url = (query: string) => `http://127.0.0.1/graphql?query=${encodeURIComponent(query)}`;

  it('accepts a plain JSON POST (curl, fetch, the test helper)', async () => {
    const res = await post(JSON_HEADERS, [JSON.stringify({ query: '{ __typename }' })]);
    expect(res).toEqual({ status: 200, body: '{"data":{"__typename":"Query"}}' });
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form-urlencoded', 'application/x-www-form-urlencoded'],
    ['multipart', 'multipart/form-data; boundary=x'],
  ])('refuses a %s POST, which a browser sends cross-site without a preflight', async (_name, contentType) => {
    const res = await post({ 'content-type': contentType }, [JSON.stringify({ query: '{ __typename }' })]);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).errors).toEqual([
      {
        message: 'Refused as a possible cross-site request: send the operation as JSON, with Content-Type: application/json',
        extensions: { code: 'BAD_REQUEST' },
      },
    ]);
  });

  // No cookies here: a GET without a key runs as nobody and cannot mutate, so it gets the same
  // answer as any unauthenticated call (urql sends queries as plain GETs).
  it('answers a GET without a key as unauthenticated, not as a CSRF refusal', async () => {
    const res = await t.app.fetch(url('{ viewer { id } }'));
    expect(res.status).toBe(401);
    expect((await res.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(await (await t.app.fetch(url('{ __typename }'))).json()).toEqual({ data: { __typename: 'Query' } });
  });

  // URLs end up in access logs, proxies and browser history; keys travel only in headers.
  it('never takes an API key from the URL', async () => {
    const { apiKey } = await t.register();
    for (const name of ['api_key', 'apiKey', 'key', 'access_token', 'x-api-key']) {
      const res = await t.app.fetch(`${url('{ viewer { id } }')}&${name}=${encodeURIComponent(apiKey)}`);
      expect((await res.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('runs a GET query with the key', async () => {
    const { apiKey, userId } = await t.register();
    const withKey = await t.app.fetch(url('{ viewer { id } }'), { headers: { 'x-api-key': apiKey } });
    expect(await withKey.json()).toEqual({ data: { viewer: { id: userId } } });
  });

  it('still serves GraphiQL to a browser', async () => {
    const res = await t.app.fetch('http://127.0.0.1/graphql', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>Alertwire</title>');
  });

  it('never runs a mutation over GET: 405, and nothing is written', async () => {
    const before = await t.database.db.select().from(users);
    const res = await t.app.fetch(url('mutation { register(input: { name: "Get", email: "get@example.com" }) { apiKey } }'), {
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await t.database.db.select().from(users)).toEqual(before);
  });
});

describe('malformed transport', () => {
  it('answers broken JSON with 400 and never quotes the body back', async () => {
    const res = await post(JSON_HEADERS, ['{"query": "{ viewer { id } }", "marker-7f3a": ']);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).errors[0]).toMatchObject({ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } });
    expect(res.body).not.toContain('marker-7f3a');
  });

  it('refuses a JSON body that is not UTF-8: 415 for a declared other charset, 400 for invalid bytes', async () => {
    const query = JSON.stringify({ query: '{ __typename }' });
    expect((await post({ 'content-type': 'application/json; charset=utf-16' }, [query])).status).toBe(415);
    const invalid = await t.app.fetch('http://127.0.0.1/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.concat([Buffer.from('{"query": "{ __typename } #'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]),
    });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).errors[0]).toEqual({
      message: 'The request body is not valid UTF-8',
      extensions: { code: 'BAD_REQUEST' },
    });
  });

  it('refuses GET variables that are not a JSON object with 400', async () => {
    const res = await t.app.fetch(`http://127.0.0.1/graphql?query=${encodeURIComponent('{ __typename }')}&variables=oops`, {
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].message).toBe('The variables parameter must be a JSON object');
  });

  it('refuses a document nested deeper than the parser can take, as a parse error', async () => {
    const res = await t.gql(`{ quote(ticker: ${'['.repeat(1500)}"A"${']'.repeat(1500)}) { price } }`);
    expect(res.body.errors).toEqual([
      { message: 'Syntax Error: Nesting limit of 64 exceeded.', extensions: { code: 'GRAPHQL_PARSE_FAILED' } },
    ]);
  });
});
