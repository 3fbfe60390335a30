import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REDIS_CONNECTION_NAME } from '../src/rate-limit/redis-store.js';
import { manualClock } from './helpers/clock.js';
import { createTestApp, type TestApp } from './helpers/test-app.js';

// Run only with REDIS_URL (vitest.config.ts); a key prefix per run, as several runs share one Redis.
const REDIS_URL = inject('redisUrl');
const keyPrefix = `alertwire-test:${randomUUID()}:`;
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { apiKey } }`;
const registerInput = () => ({ input: { name: 'Shared', email: `shared-${randomUUID()}@example.com` } });

let redis: Redis;
let instances: TestApp[];
beforeAll(async () => {
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000, lazyConnect: true });
  await redis.connect();
  expect(await redis.ping()).toBe('PONG');
  // A busy machine can take over 100 ms to answer: the breaker would then count in memory.
  const rateLimit = { keyPrefix, redisCommandTimeoutMs: 5000, fieldBudgets: { register: { max: 5, windowMs: 60_000 } } };
  instances = [];
  // One clock standing still for both: retryAfter is the whole window however long the 20 calls take.
  const clock = manualClock();
  for (let i = 0; i < 2; i++) instances.push(await createTestApp({ clock, env: { REDIS_URL }, rateLimit }));
});
afterAll(async () => {
  for (const t of instances) await t.close();
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

const connectionsOfTheStore = async () =>
  String(await redis.client('LIST'))
    .split('\n')
    .filter((line) => line.includes(`name=${REDIS_CONNECTION_NAME} `)).length;

describe('the Redis store (REDIS_URL)', () => {
  it('shares one exact budget between instances: 20 concurrent calls, budget 5 → exactly 5 succeed', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => instances[i % 2]!.gql(REGISTER, { variables: registerInput() })),
    );
    expect(results.filter((r) => r.body.data?.register?.apiKey).length).toBe(5);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBe(15);
    for (const r of refused) expect(r.body.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: 60 });
    expect(results.map((r) => r.headers.get('x-ratelimit-remaining')).sort()).toEqual(
      ['0', '1', '2', '3', '4', ...Array<string>(15).fill('0')].sort(),
    );
  });

  it('keeps the log in one sorted set per identity and field, under the configured prefix', async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    expect(keys).toEqual([`${keyPrefix}address:unknown:register`]);
    expect(await redis.zcard(keys[0]!)).toBe(5);
    expect(await redis.pttl(keys[0]!)).toBeGreaterThan(50_000);
  });

  it('closes its connection when the app is disposed', async () => {
    const extra = await createTestApp({ env: { REDIS_URL }, rateLimit: { keyPrefix } });
    await extra.gql(REGISTER, { variables: registerInput() });
    const before = await connectionsOfTheStore();
    await extra.close();
    expect(await connectionsOfTheStore()).toBe(before - 1);
  });
});

describe('an unreachable Redis', () => {
  it('degrades to per-instance budgets in memory and says so in the log, never failing the request', async () => {
    const t = await createTestApp({
      env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_MAX: '2' },
      rateLimit: { keyPrefix },
    });
    try {
      const { apiKey } = await t.register();
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await t.gql(`{ viewer { id } }`, { apiKey })).status);
      expect(statuses).toEqual([200, 200, 429]);
      expect(t.logs.some((l) => /^rate-limit store: Redis (is unreachable|call failed)/.test(String(l.msg)))).toBe(true);
    } finally {
      await t.close();
    }
  });
});
