import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { createTestDatabaseSource, type TestDatabaseSource } from './helpers/test-database.js';

let source: TestDatabaseSource;
const apps: TestApp[] = [];
beforeAll(async () => {
  source = await createTestDatabaseSource();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await source.destroy();
});

async function appWith(env: Record<string, string>): Promise<TestApp> {
  const app = await createTestApp({ source, env });
  apps.push(app);
  return app;
}

const preflight = (t: TestApp, origin: string) =>
  t.app.fetch('http://127.0.0.1/graphql', {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-api-key' },
  });
const post = (t: TestApp, origin: string) =>
  t.app.fetch('http://127.0.0.1/graphql', {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });

describe('CORS', () => {
  it('by default lets any origin call with its key in a header, and never allows credentials', async () => {
    const t = await appWith({});
    const pre = await preflight(t, 'https://anywhere.example');
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
    expect(pre.headers.get('access-control-allow-headers')).toBe('content-type,x-api-key');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const res = await post(t, 'https://anywhere.example');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-expose-headers')).toBe(
      'X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Request-Id',
    );
  });

  it('with CORS_ORIGINS allows only the listed origins', async () => {
    const t = await appWith({ CORS_ORIGINS: 'https://app.example.com, https://admin.example.com' });
    const listed = await preflight(t, 'https://admin.example.com');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(listed.headers.get('vary')).toContain('Origin');
    expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await preflight(t, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    expect((await post(t, 'https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });

  it('with CORS_ORIGINS=none sends no CORS headers, so browsers allow only the same origin', async () => {
    const t = await appWith({ CORS_ORIGINS: 'none' });
    const res = await post(t, 'https://app.example.com');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
