import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface SealedSecret {
  /** base64 of iv (12 bytes) ‖ auth tag (16 bytes) ‖ ciphertext */
  ciphertext: string;
  keyId: string;
}

/** AES-256-GCM for webhook secrets at rest. Seals with the current key, opens with current or previous. */
export interface SecretBox {
  seal(plaintext: string): SealedSecret;
  open(sealed: SealedSecret): string;
  /** True when the row was sealed with a key other than the current one and should be re-sealed. */
  isStale(sealed: SealedSecret): boolean;
  /** True when a key with this id is configured (current or previous). */
  hasKey(keyId: string): boolean;
}

const keyIdOf = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 12);

export function createSecretBox(current: Buffer, previous: Buffer[] = []): SecretBox {
  if (current.length !== 32) throw new Error('The secret encryption key must be 32 bytes');
  const currentId = keyIdOf(current);
  const keys = new Map([[currentId, current], ...previous.map((k) => [keyIdOf(k), k] as const)]);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64'), keyId: currentId };
    },
    open({ ciphertext, keyId }) {
      const key = keys.get(keyId);
      if (!key) throw new Error(`No encryption key with id ${keyId} is configured`);
      const raw = Buffer.from(ciphertext, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
    isStale: ({ keyId }) => keyId !== currentId,
    hasKey: (keyId) => keys.has(keyId),
  };
}

const KEY_FILE = 'secret-encryption.key';

/**
 * The configured key, or one generated once and kept in the data folder so secrets still
 * decrypt after a restart. A key file left in the folder stays readable as a previous key when
 * SECRET_ENCRYPTION_KEY is set later, so configuring a key never strands existing secrets.
 */
export function loadSecretBox(options: {
  key?: string | undefined;
  previousKey?: string | undefined;
  dataDir?: string | undefined;
}): SecretBox {
  const previous = options.previousKey ? [Buffer.from(options.previousKey, 'base64')] : [];
  const file = options.dataDir ? path.join(options.dataDir, KEY_FILE) : undefined;
  if (options.key) {
    const kept = file && existsSync(file) ? [readKeyFile(file)] : [];
    return createSecretBox(Buffer.from(options.key, 'base64'), [...previous, ...kept]);
  }
  if (!file) return createSecretBox(randomBytes(32), previous);
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return createSecretBox(readKeyFile(file), previous);
}

const readKeyFile = (file: string) => Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
