import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, openFailure } from '../src/db/client.js';
import { claimDataDir } from '../src/db/data-dir.js';
import { PGLITE_TEMPLATE_DIR } from '../src/package-files.js';
import { openToOthers } from './helpers/file-modes.js';
import { pgliteImage } from './helpers/test-database.js';

const root = mkdtempSync(path.join(tmpdir(), 'alertwire-datadir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// As `npm start` opens DATA_DIR: a fresh folder starts as a copy of the build's template.
const startup = { templateDir: PGLITE_TEMPLATE_DIR };

describe('the embedded data folder', () => {
  it('is created owner-only: DATA_DIR 0700, every file under it 0600', async () => {
    const dataDir = path.join(root, 'fresh');
    const database = await createDb({ dataDir, ...startup });
    await database.migrate();
    await database.close();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readdirSync(path.join(dataDir, 'pgdata')).length).toBeGreaterThan(5);
    expect(openToOthers(dataDir)).toEqual([]);
  });

  it('an existing folder with files open to others is tightened at start, with a warning', async () => {
    const dataDir = path.join(root, 'loose');
    await (await createDb({ dataDir, ...startup })).close();
    const victim = path.join(dataDir, 'pgdata', 'PG_VERSION');
    chmodSync(victim, 0o666);
    chmodSync(dataDir, 0o777);
    const warned: string[][] = [];
    const database = await createDb({ dataDir, onLooseFiles: (paths) => warned.push(paths) });
    await database.close();
    expect(warned).toEqual([expect.arrayContaining([dataDir, victim])]);
    expect(openToOthers(dataDir)).toEqual([]);
  });

  it('a data folder that lost PG_VERSION stops the start with one line naming it, and is left as it was', async () => {
    const dataDir = path.join(root, 'damaged');
    await (await createDb({ dataDir, ...startup })).close();
    const pgdata = path.join(dataDir, 'pgdata');
    rmSync(path.join(pgdata, 'PG_VERSION'));
    const before = readdirSync(pgdata).sort();
    await expect(createDb({ dataDir, ...startup })).rejects.toThrow(
      `${pgdata} is not a valid database (PG_VERSION is missing): restore it from a backup, or move it away to start empty`,
    );
    expect(readdirSync(pgdata).sort()).toEqual(before);
    // Not locked by the refused start: a repaired folder opens.
    writeFileSync(path.join(pgdata, 'PG_VERSION'), '18\n');
    await (await createDb({ dataDir })).close();
  });

  it("a store PostgreSQL cannot start names its folder and what to do, in PGlite's thread or not", async () => {
    const dataDir = path.join(root, 'no-catalog');
    await (await createDb({ dataDir, ...startup })).close();
    const pgdata = path.join(dataDir, 'pgdata');
    // PG_VERSION is there, so the folder check passes; PostgreSQL itself cannot start without it.
    rmSync(path.join(pgdata, 'global'), { recursive: true });
    const advice = `could not open the embedded database in ${pgdata} (`;
    const then = '): if the folder is damaged, restore DATA_DIR from a backup, or move it away to start with an empty database';
    for (const thread of [false, true]) {
      const failure = await createDb({ dataDir, thread }).then(
        () => undefined,
        (error: Error) => error,
      );
      expect(failure?.message.startsWith(advice)).toBe(true);
      expect(failure?.message.endsWith(then)).toBe(true);
    }
    // Neither failed start kept the folder locked.
    claimDataDir(dataDir).release();
  });

  it('says to check access and room, not to move the store away, when the system refused it', () => {
    const existing = { pgdata: '/srv/alertwire/pgdata', fresh: false };
    const messageOf = (error: unknown) => (openFailure(existing, error) as Error).message;
    const access = 'check that this user may read and write the folder, and that the disk has room';
    const damaged = 'if the folder is damaged, restore DATA_DIR from a backup';
    // Emscripten's error as in-process PGlite throws it, PostgreSQL's words, Node's code.
    expect(messageOf({ name: 'ErrnoError', errno: 2 })).toBe(`could not open the embedded database in /srv/alertwire/pgdata (file-system error EACCES): ${access}`);
    expect(messageOf(new Error('could not open file "global/pg_control": Permission denied'))).toContain(access);
    expect(messageOf(new Error("ENOSPC: no space left on device, write"))).toContain(access);
    expect(messageOf(new Error('could not write to file "pg_wal/xlogtemp.1": Quota exceeded'))).toContain(access); // musl's words
    expect(messageOf({ name: 'ErrnoError', errno: 19 })).toContain('(file-system error EDQUOT)');
    expect(messageOf(new Error('PGlite failed to initialize properly'))).toContain(damaged);
    expect((openFailure({ ...existing, fresh: true }, new Error('x')) as Error).message).toBe('could not create the embedded database in /srv/alertwire/pgdata (x)');
  });

  it('an empty pgdata folder is a fresh start (the migrated image loads into it)', async () => {
    const dataDir = path.join(root, 'empty');
    mkdirSync(path.join(dataDir, 'pgdata'), { recursive: true });
    const database = await createDb({ dataDir, image: pgliteImage() });
    await database.close();
    expect(readdirSync(path.join(dataDir, 'pgdata'))).toContain('PG_VERSION');
  });
});
