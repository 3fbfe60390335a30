import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { PG_BIN } from './test/helpers/private-services.js';

// REDIS_URL is for the Redis tests only: they get it through inject('redisUrl'). Processes that
// tests spawn inherit this environment, and would otherwise share one key prefix across runs.
const redisUrl = process.env.REDIS_URL ?? '';
delete process.env.REDIS_URL;

/** Whether something answers on 127.0.0.1:port, within a short wait. */
const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(500, () => done(false));
  });
const onPath = (program: string) => spawnSync(program, ['--version'], { stdio: 'ignore' }).status === 0;
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Tests that need more than Node and npm. `npm test` on a machine without one of these runs the
// rest and names what it left out; .ci/run sets ALL_TESTS=1, and then a missing one fails the run.
const prerequisites = async () => [
  { files: ['test/rate-limit-redis.test.ts'], present: Boolean(redisUrl), need: 'Redis: REDIS_URL=redis://127.0.0.1:6379' },
  { files: ['test/redis-stall.test.ts'], present: onPath('redis-server'), need: 'redis-server on the PATH, for a private Redis' },
  {
    files: ['test/graphiql-browser.test.ts'],
    present: existsSync(chromium),
    need: `Chromium at ${chromium}: apt-get install chromium, or set CHROMIUM_PATH`,
  },
  {
    files: ['test/postgres-outage.test.ts', 'test/postgres-stall.test.ts'],
    present: existsSync(path.join(PG_BIN, 'initdb')),
    need: `PostgreSQL 15's programs in ${PG_BIN}, for a private server`,
  },
  {
    files: ['test/database-errors.test.ts', 'test/statement-deadline-clock.test.ts'],
    present: await answers(5432),
    need: 'a PostgreSQL server on 127.0.0.1:5432 (trust auth, database test)',
  },
];

async function leftOut(): Promise<string[]> {
  const missing = (await prerequisites()).filter((p) => !p.present);
  if (missing.length > 0 && process.env.ALL_TESTS) {
    throw new Error(`ALL_TESTS is set, but: ${missing.map((m) => `${m.files.join(', ')} need ${m.need}`).join('; ')}`);
  }
  if (process.env.VITEST) {
    for (const m of missing) console.log(`Not run: ${m.files.join(', ')} (${m.files.length > 1 ? 'they need' : 'it needs'} ${m.need})`);
  }
  return missing.flatMap((m) => m.files);
}

export default defineConfig(async () => ({
  resolve: {
    // Node loads graphql's CommonJS entry for the libraries; make test code use that same copy.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(await leftOut())],
    provide: { redisUrl },
    globalSetup: ['test/helpers/global-setup.ts'],
    // Each file builds its own database (PGlite in memory from one migrated image, or a fresh
    // Postgres database). Waits for a signal give up after HANG_MS (test/helpers/receiver.ts);
    // a test gets twice that, so a busy machine makes the suite slower, not red.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default is one worker per core minus one: a single worker on a 2-core machine.
    // Files wait on sockets, child processes and the database as much as they compute.
    maxWorkers: 2,
    // A worker runs its files one after another in one process, importing the app (yoga, Pothos,
    // drizzle, ...) once instead of once per file: that import was most of the time between two
    // files. Only the test files are evaluated again; what they share (src, test/helpers) keeps
    // no state of a file's besides caches of constants, the one PGlite image, and the locks of
    // open data dirs (released on close), and every file closes what it opens.
    isolate: false,
  },
}));
