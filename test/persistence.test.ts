import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSecretBox } from '../src/modules/webhooks/secret-box.js';
import { createTestApp } from './helpers/test-app.js';
import { backend, createTestDatabaseSource } from './helpers/test-database.js';

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

  it('is not needed in the folder when SECRET_ENCRYPTION_KEY is given', () => {
    const dir = path.join(dataDir, 'configured');
    const key = Buffer.alloc(32, 7).toString('base64');
    const sealed = loadSecretBox({ key, dataDir: dir }).seal('x');
    expect(existsSync(path.join(dir, 'secret-encryption.key'))).toBe(false);
    expect(loadSecretBox({ key }).open(sealed)).toBe('x');
  });
});
