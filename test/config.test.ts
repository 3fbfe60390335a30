import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ENV_VARIABLES, parseEnv } from '../src/env.js';
import { compiled, repositoryRoot } from './helpers/compiled.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const config = parseEnv({});
    expect(config).toMatchObject({
      PORT: 4000,
      HOST: '0.0.0.0',
      DATA_DIR: './.data',
      WEBHOOK_MAX_DELIVERIES: 50,
      WEBHOOK_MAX_ATTEMPTS: 3,
      WEBHOOK_RETRY_BASE_MS: 1000,
      WEBHOOK_TIMEOUT_MS: 10_000,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: true,
      DELIVERY_WORKER: true,
      RATE_LIMIT_MAX: 120,
      RATE_LIMIT_WINDOW: 60_000,
      LOG_LEVEL: 'info',
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('blocks private networks by default in production', () => {
    expect(parseEnv({ NODE_ENV: 'production' }).WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(false);
    expect(parseEnv({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }).WEBHOOK_ALLOW_PRIVATE_NETWORKS).toBe(true);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be a port number (0–65535), got "abc"'],
    [{ PORT: '70000' }, 'PORT must be a port number (0–65535), got "70000"'],
    [{ WEBHOOK_MAX_ATTEMPTS: '0' }, 'WEBHOOK_MAX_ATTEMPTS must be an integer (1–20), got "0"'],
    [{ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'maybe' }, 'WEBHOOK_ALLOW_PRIVATE_NETWORKS must be true or false, got "maybe"'],
    [{ RATE_LIMIT_WINDOW: 'soon' }, 'RATE_LIMIT_WINDOW must be a duration such as 1m, 30s or 500ms, got "soon"'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres or postgresql URL'],
    [{ SECRET_ENCRYPTION_KEY: 'c2hvcnQ=' }, 'SECRET_ENCRYPTION_KEY must be 32 bytes encoded as base64 (openssl rand -base64 32)'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL:'],
    [{ CORS_ORIGINS: 'https://app.example.com/' }, 'CORS_ORIGINS must be *, none, or origins such as https://app.example.com (no path or trailing slash), got "https://app.example.com/"'],
    [{ RATE_LIMIT_FIELDS: 'register=0/1h' }, 'RATE_LIMIT_FIELDS entries look like field=max/window (register=20/1h), got "register=0/1h"'],
    [{ RATE_LIMIT_FIELDS: 'register:5' }, 'RATE_LIMIT_FIELDS entries look like field=max/window (register=20/1h), got "register:5"'],
    [
      { DATABASE_URL: 'postgres://h/db', NODE_ENV: 'production' },
      'SECRET_ENCRYPTION_KEY is required with DATABASE_URL in production',
    ],
  ])('rejects %o with a message naming the variable', (env, message) => {
    expect(() => parseEnv(env)).toThrow(message);
  });

  it('.env.example lists every variable, each with its default', () => {
    const example = Object.fromEntries(
      readFileSync(new URL('../.env.example', import.meta.url), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(example).sort()).toEqual([...ENV_VARIABLES].sort());
    expect(parseEnv(example)).toEqual(parseEnv({}));
  });

  it('reads per-field budgets from RATE_LIMIT_FIELDS', () => {
    expect(parseEnv({}).RATE_LIMIT_FIELDS).toEqual({});
    expect(parseEnv({ RATE_LIMIT_FIELDS: 'register=20/1h, sendTestWebhook=10/30s' }).RATE_LIMIT_FIELDS).toEqual({
      register: { max: 20, windowMs: 3_600_000 },
      sendTestWebhook: { max: 10, windowMs: 30_000 },
    });
  });

  it('reads durations in ms, s, m and h', () => {
    expect(parseEnv({ RATE_LIMIT_WINDOW: '30s' }).RATE_LIMIT_WINDOW).toBe(30_000);
    expect(parseEnv({ RATE_LIMIT_WINDOW: '2h' }).RATE_LIMIT_WINDOW).toBe(7_200_000);
    expect(parseEnv({ RATE_LIMIT_WINDOW: '250' }).RATE_LIMIT_WINDOW).toBe(250);
  });

  it('stops the server at start with one clear line and a non-zero exit', () => {
    const result = spawnSync(process.execPath, [compiled('src/main.ts')], {
      cwd: repositoryRoot,
      env: { ...process.env, PORT: 'abc', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('Configuration error: PORT must be a port number (0–65535), got "abc"');
    expect(result.stdout).toBe('');
  });
});
