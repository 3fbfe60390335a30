import { randomBytes } from 'node:crypto';
import { createApp, type App } from '../../src/app.js';
import { createEvaluator, createWorker } from '../../src/background.js';
import type { AlertEvaluator } from '../../src/modules/alerts/alert-evaluator.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { Database } from '../../src/db/client.js';
import type { DeliveryWorker } from '../../src/delivery/delivery-worker.js';
import type { LookupFn } from '../../src/delivery/http-sender.js';
import { parseEnv, type Config } from '../../src/env.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics/metrics.js';
import { createSecretBox, type SecretBox } from '../../src/modules/webhooks/secret-box.js';
import { STRICT_BUDGETS } from '../../src/rate-limit/budgets.js';
import type { RateLimitOptions } from '../../src/rate-limit/rate-limiter.js';
import { backend, createTestDatabaseSource, type TestDatabaseSource } from './test-database.js';

interface GqlResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  // any: tests read arbitrary response shapes and assert them
  body: { data?: T | null; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };
}

export interface TestApp {
  app: App;
  database: Database;
  config: Config;
  secretBox: SecretBox;
  /** Shared by the app and the workers it starts. */
  metrics: Metrics;
  /** Every log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  gql<T = Record<string, any>>(
    query: string,
    options?: { variables?: Record<string, unknown>; apiKey?: string; headers?: Record<string, string> },
  ): Promise<GqlResponse<T>>;
  /** Registers a user through the API and returns its key. */
  register(name?: string): Promise<{ apiKey: string; userId: string; email: string }>;
  /** Starts a delivery worker on this app's database (or another connection to it); close() stops it. */
  startWorker(options?: {
    clock?: Clock;
    database?: Database;
    lookup?: LookupFn;
    workerId?: string;
    env?: Record<string, string>;
    /** The worker's keys for webhook secrets; default: the app's. */
    secretBox?: SecretBox;
  }): Promise<DeliveryWorker>;
  /**
   * A second connection to this app's database, as a `npm run worker` process has: on Postgres its
   * changes reach the app only through NOTIFY. PGlite has a single connection, the app's. close()
   * closes it.
   */
  otherConnection(): Promise<Database>;
  /** Starts an alert evaluator (as `npm start` runs one) on this app's database; close() stops it. */
  startEvaluator(options?: { clock?: Clock; database?: Database }): Promise<AlertEvaluator>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Reuse a database source (another app on the same data, or a restart). */
  source?: TestDatabaseSource;
  secretBox?: SecretBox;
  /**
   * Rate-limit budgets. Suites register many users from one address, so by default the strict
   * built-in budgets are raised (and RATE_LIMIT_MAX defaults high); pass `{}` for the real ones.
   */
  rateLimit?: RateLimitOptions;
}

const RELAXED_RATE_LIMITS: RateLimitOptions = {
  fieldBudgets: Object.fromEntries(Object.keys(STRICT_BUDGETS).map((field) => [field, { max: 1_000_000, windowMs: 60_000 }])),
};

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownSource = !options.source;
  const source = options.source ?? (await createTestDatabaseSource());
  const database = await source.open();
  const config = parseEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    RATE_LIMIT_MAX: '1000000',
    ...options.env,
  });
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(config.LOG_LEVEL, (line) => logs.push(JSON.parse(line)));
  const secretBox = options.secretBox ?? createSecretBox(randomBytes(32));
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics();
  const app = createApp({ database, config, clock, logger, secretBox, metrics, rateLimit: options.rateLimit ?? RELAXED_RATE_LIMITS });

  const gql: TestApp['gql'] = async (query, { variables, apiKey, headers } = {}) => {
    const response = await app.fetch('http://127.0.0.1/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(apiKey ? { 'x-api-key': apiKey } : {}),
        ...headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  };

  let counter = 0;
  const workers: DeliveryWorker[] = [];
  const evaluators: AlertEvaluator[] = [];
  const otherConnections: Database[] = [];
  return {
    app,
    database,
    config,
    secretBox,
    metrics,
    logs,
    gql,
    async register(name = 'Test User') {
      const email = `user-${randomBytes(4).toString('hex')}-${counter++}@example.com`;
      const res = await gql(
        `mutation($input: RegisterInput!) { register(input: $input) { apiKey user { id } } }`,
        { variables: { input: { name, email } } },
      );
      const payload = res.body.data?.register;
      if (!payload) throw new Error(`register failed: ${JSON.stringify(res.body)}`);
      return { apiKey: payload.apiKey, userId: payload.user.id, email };
    },
    async startWorker(worker = {}) {
      const workerConfig = worker.env ? parseEnv({ NODE_ENV: 'test', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', ...options.env, ...worker.env }) : config;
      const started = createWorker(
        {
          database: worker.database ?? database,
          config: workerConfig,
          clock: worker.clock ?? clock,
          logger,
          secretBox: worker.secretBox ?? secretBox,
          metrics,
        },
        { lookup: worker.lookup, workerId: worker.workerId },
      );
      workers.push(started);
      await started.start();
      return started;
    },
    async otherConnection() {
      if (backend === 'pglite') return database;
      const other = await source.open();
      otherConnections.push(other);
      return other;
    },
    async startEvaluator(evaluator = {}) {
      const started = createEvaluator({
        database: evaluator.database ?? database,
        config,
        clock: evaluator.clock ?? clock,
        logger,
        secretBox,
      });
      evaluators.push(started);
      await started.start();
      return started;
    },
    async close() {
      await Promise.all(evaluators.map((e) => e.stop()));
      await Promise.all(workers.map((w) => w.stop()));
      await app.dispose();
      for (const other of otherConnections.splice(0)) await other.close();
      await database.close();
      if (ownSource) await source.destroy();
    },
  };
}
