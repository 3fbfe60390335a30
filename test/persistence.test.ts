import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../src/bootstrap.js';
import { createDb } from '../src/db/client.js';
import { parseEnv } from '../src/env.js';
import { createLogger } from '../src/logger.js';
import { loadSecretBox } from '../src/modules/webhooks/secret-box.js';
import { createTestApp } from './helpers/test-app.js';
import { backend, createTestDatabaseSource, pgliteImage } from './helpers/test-database.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'alertwire-persist-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('restart', () => {
  it(`keeps users, keys and webhooks across an app restart (${backend})`, async () => {
    const source = await createTestDatabaseSource({ dataDir: path.join(dataDir, 'db') });
    const secretBox = loadSecretBox({ dataDir });
    const first = await createTestApp({ source, secretBox });
    const { apiKey } = await first.register('Persistent');
    await first.gql(`mutation { setWebhook(input: { url: "https://example.com/p", secret: "kept" }) { __typename } }`, {
      apiKey,
    });
    await first.close();

    // A new process: a new app, a new connection, the key file read again from DATA_DIR.
    const second = await createTestApp({ source, secretBox: loadSecretBox({ dataDir }) });
    try {
      const res = await second.gql(`{ viewer { name } webhook { url hasSecret } }`, { apiKey });
      expect(res.body.data).toEqual({
        viewer: { name: 'Persistent' },
        webhook: { url: 'https://example.com/p', hasSecret: true },
      });
      const [row] = await second.database.db.query.webhooks.findMany();
      expect(second.secretBox.open({ ciphertext: row!.secretCiphertext!, keyId: row!.secretKeyId! })).toBe('kept');
    } finally {
      await second.close();
      await source.destroy();
    }
  });
});

describe('embedded encryption key', () => {
  it('is generated once in DATA_DIR with owner-only permissions and reused', () => {
    const dir = path.join(dataDir, 'keys');
    const sealed = loadSecretBox({ dataDir: dir }).seal('hello');
    const file = path.join(dir, 'secret-encryption.key');
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8'), 'base64')).toHaveLength(32);
    expect(loadSecretBox({ dataDir: dir }).open(sealed)).toBe('hello');
  });

  it('stays readable as a previous key once SECRET_ENCRYPTION_KEY is configured', () => {
    const dir = path.join(dataDir, 'then-configured');
    const sealedWithFile = loadSecretBox({ dataDir: dir }).seal('before');
    const configured = loadSecretBox({ key: Buffer.alloc(32, 9).toString('base64'), dataDir: dir });
    expect(configured.open(sealedWithFile)).toBe('before');
    expect(configured.isStale(sealedWithFile)).toBe(true);
    expect(configured.isStale(configured.seal('after'))).toBe(false);
  });

  it('is not needed in the folder when SECRET_ENCRYPTION_KEY is given', () => {
    const dir = path.join(dataDir, 'configured');
    const key = Buffer.alloc(32, 7).toString('base64');
    const sealed = loadSecretBox({ key, dataDir: dir }).seal('x');
    expect(existsSync(path.join(dir, 'secret-encryption.key'))).toBe(false);
    expect(loadSecretBox({ key }).open(sealed)).toBe('x');
  });
});

describe('start-up', () => {
  it('warns, naming the settings, when stored secrets were sealed with a key that is not configured', async () => {
    const dir = path.join(dataDir, 'runtime');
    const source = await createTestDatabaseSource({ dataDir: dir });
    const app = await createTestApp({ source, secretBox: loadSecretBox({ dataDir: path.join(dir, 'old-key') }) });
    const { apiKey } = await app.register();
    await app.gql(`mutation { setWebhook(input: { url: "https://example.com/k", secret: "s" }) { __typename } }`, { apiKey });
    await app.close();

    const lines: string[] = [];
    const config = parseEnv({
      LOG_LEVEL: 'warn',
      DATA_DIR: dir,
      SECRET_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString('base64'),
      ...(source.url ? { DATABASE_URL: source.url } : {}),
    });
    const runtime = await openRuntime(config, { logger: createLogger('warn', (l) => lines.push(l)) });
    await runtime.database.close();
    await source.destroy();
    const warning = lines.map((l) => JSON.parse(l)).find((e) => e.msg.includes('not configured'));
    expect(warning?.msg).toMatch(/SECRET_ENCRYPTION_KEY or SECRET_ENCRYPTION_KEY_PREVIOUS/);
    expect(warning?.unknownKeyIds).toHaveLength(1);
  });
});

describe('embedded database folder', () => {
  it('is opened by one process at a time; a lock left by a dead process is taken over', async () => {
    const dir = path.join(dataDir, 'locked');
    const first = await createDb({ dataDir: dir, image: pgliteImage() });
    await expect(createDb({ dataDir: dir, image: pgliteImage() })).rejects.toThrow(
      `The embedded database in ${dir} is in use by process ${process.pid}: stop it first, or set DATABASE_URL`,
    );
    await first.close();
    expect(existsSync(path.join(dir, 'pgdata.lock'))).toBe(false);

    const deadPid = spawnSync('true').pid;
    writeFileSync(path.join(dir, 'pgdata.lock'), String(deadPid));
    const again = await createDb({ dataDir: dir, image: pgliteImage() });
    expect(readFileSync(path.join(dir, 'pgdata.lock'), 'utf8')).toBe(String(process.pid));
    await again.close();
  });

  it('takes over a lock carrying its own pid that it did not write (a restarted container)', async () => {
    const dir = path.join(dataDir, 'same-pid');
    await (await createDb({ dataDir: dir, image: pgliteImage() })).close();
    writeFileSync(path.join(dir, 'pgdata.lock'), String(process.pid));
    const reopened = await createDb({ dataDir: dir, image: pgliteImage() });
    await reopened.close();
    expect(existsSync(path.join(dir, 'pgdata.lock'))).toBe(false);
  });

  it('closing removes only its own lock: one another process holds by then stays, and no temporary file is left', async () => {
    const dir = path.join(dataDir, 'not-mine');
    const database = await createDb({ dataDir: dir, image: pgliteImage() });
    // As if the lock had been taken over meanwhile by a live process (our parent stands in for it).
    writeFileSync(path.join(dir, 'pgdata.lock'), String(process.ppid));
    await database.close();
    expect(readFileSync(path.join(dir, 'pgdata.lock'), 'utf8')).toBe(String(process.ppid));
    expect(readdirSync(dir).filter((name) => name.startsWith('pgdata.lock'))).toEqual(['pgdata.lock']);
  });
});
