import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// GraphiQL's 9 MB of scripts, styles and workers used to be inlined in its page on every load.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const get = (path: string, headers: Record<string, string> = {}) => t.app.fetch(`http://127.0.0.1${path}`, { headers });

async function page(): Promise<{ html: string; assets: string[] }> {
  const res = await get('/graphql', { accept: 'text/html' });
  expect(res.status).toBe(200);
  const html = await res.text();
  return { html, assets: [...html.matchAll(/"(\/graphiql\/[^"]+)"/g)].map((m) => m[1]!) };
}

describe("GraphiQL's assets", () => {
  it('are not in the page: it is a few kB and names six assets by their hashes', async () => {
    const { html, assets } = await page();
    expect(html.length).toBeLessThan(10_000);
    expect(html).toContain('<title>Alertwire</title>');
    expect(assets).toHaveLength(6);
    for (const path of assets) expect(path).toMatch(/^\/graphiql\/[\w.]+-[0-9a-f]{16}\.(js|css|ico)$/);
  });

  it('are served cacheable for a year, gzipped when the browser accepts it, and 304 for a known ETag', async () => {
    const { assets } = await page();
    const script = assets.find((a) => /\/graphiql-[0-9a-f]+\.js$/.test(a))!;
    const plain = await get(script);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.toString('utf8')).toContain('renderYogaGraphiQL');

    const zipped = await get(script, { 'accept-encoding': 'gzip, deflate, br' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    // yoga.fetch hands the bytes over as sent; a browser would inflate them.
    const raw = Buffer.from(await zipped.arrayBuffer());
    expect(raw.length).toBeLessThan(body.length / 2);
    expect(gunzipSync(raw).equals(body)).toBe(true);

    const again = await get(script, { 'if-none-match': plain.headers.get('etag')! });
    expect(again.status).toBe(304);
  });

  it('answers 404 for any other path under /graphiql/, and for a POST', async () => {
    const { assets } = await page();
    expect((await get('/graphiql/graphiql-0000000000000000.js')).status).toBe(404);
    expect((await t.app.fetch(`http://127.0.0.1${assets[0]}`, { method: 'POST' })).status).toBe(404);
  });
});
