import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDb } from '../src/db/client.js';
import { describeConnectError } from '../src/db/connect-errors.js';
import { compiled } from './helpers/compiled.js';
import { freePort } from './helpers/ports.js';
import { HANG_MS } from './helpers/receiver.js';

// The shared PostgreSQL every run has (see .ci/run), reached here whichever backend the suite tests.
const SERVER = 'postgres://postgres@127.0.0.1:5432';

/** What opening and migrating `url` fails with, as one line. */
async function failureOf(url: string): Promise<string | undefined> {
  const database = await createDb({ databaseUrl: url });
  try {
    await database.migrate();
    return 'no failure';
  } catch (error) {
    return describeConnectError(error, url);
  } finally {
    await database.close();
  }
}

describe('a PostgreSQL that cannot be used', () => {
  it('names a missing database and how to create it', async () => {
    const name = `alertwire_missing_${randomBytes(4).toString('hex')}`;
    expect(await failureOf(`${SERVER}/${name}`)).toBe(`database "${name}" does not exist — create it with createdb -U postgres ${name}`);
  });

  it('names a role that does not exist', async () => {
    expect(await failureOf('postgres://nobody_here@127.0.0.1:5432/test')).toBe(
      'PostgreSQL role "nobody_here" does not exist — create it with createuser nobody_here, or put another user in DATABASE_URL',
    );
  });

  it('names a server that is down', async () => {
    const port = await freePort();
    expect(await failureOf(`postgres://postgres@127.0.0.1:${port}/alertwire`)).toBe(
      `cannot reach PostgreSQL at 127.0.0.1:${port} (connection refused) — start it, or fix the host and port in DATABASE_URL`,
    );
  });

  it('leaves other errors alone', () => {
    expect(describeConnectError(new Error('boom'), `${SERVER}/test`)).toBeUndefined();
  });

  it('stops `npm start` with that one line', () => {
    const result = spawnSync(process.execPath, [compiled('src/main.ts')], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, DATABASE_URL: `${SERVER}/alertwire_absent`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: HANG_MS,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'Alertwire failed to start: database "alertwire_absent" does not exist — create it with createdb -U postgres alertwire_absent\n',
    );
  });
});
