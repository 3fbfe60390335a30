import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from './helpers/private-services.js';
import { eventually } from './helpers/receiver.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';
import { timed } from './helpers/timed.js';

const keyPrefix = `alertwire-stall:${randomUUID()}:`;
const VIEWER = `{ viewer { id } }`;

let redis: PrivateRedis;
let t: TestApp;
let apiKey: string;
let userId: string;
beforeAll(async () => {
  redis = await startPrivateRedis();
  t = await createTestApp({ env: { REDIS_URL: redis.url }, rateLimit: { keyPrefix } });
  ({ apiKey, userId } = await t.register());
});
afterAll(async () => {
  await t?.close();
  await redis?.stop();
});

const breakerLines = () =>
  t.logs.filter((l) => /^rate-limit store: Redis is (unreachable|reachable again)/.test(String(l.msg))).map((l) => l.level);

describe('a Redis that stops answering (SIGSTOP)', () => {
  it('answers from memory within 1 s, takes Redis back once it answers, and logs one line each way', async () => {
    const viewerKey = `${keyPrefix}user:${userId}:viewer`;
    const check = new Redis(redis.url, { lazyConnect: true });
    await check.connect();
    expect((await t.gql(VIEWER, { apiKey })).status).toBe(200);
    expect(await check.zcard(viewerKey)).toBe(1);

    redis.freeze();
    try {
      // Before: every call waited for the whole freeze. Now the first waits one command timeout.
      for (let i = 0; i < 5; i++) {
        const { ms, value } = await timed(() => t.gql(VIEWER, { apiKey }));
        expect(value.status).toBe(200);
        expect(ms).toBeLessThan(1000);
      }
      expect(breakerLines()).toEqual(['warn']);
    } finally {
      redis.thaw();
    }

    await eventually(() => expect(breakerLines()).toEqual(['warn', 'info']));
    const before = await check.zcard(viewerKey);
    expect((await t.gql(VIEWER, { apiKey })).status).toBe(200);
    expect(await check.zcard(viewerKey)).toBe(before + 1);
    check.disconnect();
  });
});
