import { configDefaults, defineConfig } from 'vitest/config';

// REDIS_URL is for the Redis tests only: they get it through inject('redisUrl'). Processes that
// tests spawn inherit this environment, and would otherwise share one key prefix across runs.
const redisUrl = process.env.REDIS_URL ?? '';
delete process.env.REDIS_URL;
const REDIS_TESTS = ['test/rate-limit-redis.test.ts'];
if (!redisUrl && process.env.VITEST) console.log(`Not run: ${REDIS_TESTS.join(', ')} (they need Redis: REDIS_URL=redis://127.0.0.1:6379)`);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS entry for the libraries; make test code use that same copy.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(redisUrl ? [] : REDIS_TESTS)],
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
});
