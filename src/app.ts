import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Clock } from './clock.js';
import type { Context, Services } from './context.js';
import type { Database } from './db/client.js';
import { isDatabaseUnavailable, serviceUnavailable } from './db/unavailable.js';
import type { Config } from './env.js';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useGetParamsCheck } from './http/get-params.plugin.js';
import { graphqlLimits } from './http/graphql-limits.js';
import { useNestingLimit } from './http/nesting-limit.plugin.js';
import { useReadiness } from './http/readiness.plugin.js';
import { useRejectNulBytes } from './http/reject-nul-bytes.plugin.js';
import { useRequestBodyLimits } from './http/request-body.plugin.js';
import { useStatusCodes } from './http/status-codes.plugin.js';
import { useStreamLimit } from './http/stream-limit.plugin.js';
import { limitRootFields } from './rate-limit/limit-root-fields.js';
import { useRateLimitHeaders } from './rate-limit/rate-limit-headers.plugin.js';
import { createRateLimiter, type RateLimitOptions } from './rate-limit/rate-limiter.js';
import { createDeliveryEventHub } from './delivery/delivery-events.js';
import { createDeliveryWorker, EndpointUnusable, type DeliveryWorker } from './delivery/delivery-worker.js';
import type { LookupFn } from './delivery/http-sender.js';
import { deliveriesService } from './modules/deliveries/deliveries.service.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { useMetrics } from './metrics/metrics.plugin.js';
import type { Logger } from './logger.js';
import { readApiKey, timingSafeEqualText } from './modules/users/api-key.js';
import { alertsService } from './modules/alerts/alerts.service.js';
import { createQuoteSource, quotesService } from './modules/quotes/quotes.service.js';
import { usersService } from './modules/users/users.service.js';
import type { SecretBox } from './modules/webhooks/secret-box.js';
import { webhooksService } from './modules/webhooks/webhooks.service.js';
import { schema } from './schema.js';

export interface AppDeps {
  database: Database;
  config: Config;
  clock: Clock;
  logger: Logger;
  secretBox: SecretBox;
  /** Budget overrides and the Redis key prefix; production uses the built-ins and config. */
  rateLimit?: RateLimitOptions;
  /** Shared by the app and the worker of one process; default: the app's own. */
  metrics?: Metrics;
}

export interface ServerContext {
  req?: IncomingMessage;
}

export type App = YogaServerInstance<ServerContext, Context>;

export function createServices(deps: AppDeps): Services {
  const { database, clock, secretBox } = deps;
  const db = database.db;
  const quoteSource = createQuoteSource({ db, config: deps.config, clock, logger: deps.logger });
  const deliveries = deliveriesService({
    db,
    clock,
    logger: deps.logger,
    config: deps.config,
    events: createDeliveryEventHub(database),
  });
  return {
    users: usersService({ db, clock }),
    webhooks: webhooksService({ db, clock, secretBox, allowPrivateNetworks: deps.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS }),
    quotes: quotesService({ db, clock, source: quoteSource }),
    alerts: alertsService({
      db,
      clock,
      quoteSource,
      logger: deps.logger,
      deliverTriggered: (userId, results, evaluatedAt) => deliveries.enqueueAlertsTriggered(userId, results, evaluatedAt),
    }),
    deliveries,
  };
}

/** The delivery worker; what it needs from the modules (the current URL and secret) is passed in. */
export function createWorker(
  deps: AppDeps,
  options: { workerId?: string; lookup?: LookupFn } = {},
): DeliveryWorker {
  const { config } = deps;
  const webhooks = webhooksService({ db: deps.database.db, clock: deps.clock, secretBox: deps.secretBox });
  return createDeliveryWorker({
    database: deps.database,
    clock: deps.clock,
    logger: deps.logger,
    ...options,
    observeAttempt: deps.metrics ? (outcome) => deps.metrics!.attemptFinished(outcome) : undefined,
    config: {
      concurrency: config.DELIVERY_CONCURRENCY,
      endpointConcurrency: config.DELIVERY_ENDPOINT_CONCURRENCY,
      endpointBreakerFailures: config.DELIVERY_ENDPOINT_BREAKER_FAILURES,
      endpointBreakerCooldownMs: config.DELIVERY_ENDPOINT_BREAKER_COOLDOWN_MS,
      batchSize: config.DELIVERY_BATCH_SIZE,
      leaseMs: config.DELIVERY_LEASE_MS,
      retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
      retryAfterMaxMs: config.WEBHOOK_RETRY_AFTER_MAX_MS,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    },
    resolveEndpoint: async (userId) => {
      const webhook = await webhooks.get(userId);
      if (!webhook?.isActive) return null;
      let secret: string | null;
      try {
        secret = webhooks.openSecret(webhook);
      } catch (error) {
        // No retry can fix this: the keys it was sealed with are not configured.
        throw new EndpointUnusable(UNREADABLE_SECRET, { cause: error });
      }
      return { url: webhook.url, secret, createdAt: webhook.createdAt };
    },
  });
}

export const UNREADABLE_SECRET =
  'The webhook secret cannot be decrypted with the configured keys (SECRET_ENCRYPTION_KEY / SECRET_ENCRYPTION_KEY_PREVIOUS)';

/** Builds the yoga instance; never listens (main.ts does). */
export function createApp(deps: AppDeps): App {
  const { config, logger } = deps;
  const services = createServices(deps);
  const rateLimiter = createRateLimiter({ config, clock: deps.clock, logger, options: deps.rateLimit });
  limitRootFields(schema);
  // Nothing in the request can run without its viewer: an unreachable database answers 503 here.
  const authenticate = (apiKey: string) =>
    services.users.authenticate(apiKey).catch((error: unknown) => {
      if (!isDatabaseUnavailable(error)) throw error;
      logger.warn('database unavailable', { error });
      throw serviceUnavailable();
    });
  const metrics = deps.metrics ?? createMetrics();
  metrics.watchQueue(deps.database.db, deps.clock);

  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Alertwire', defaultQuery: GRAPHIQL_DEFAULT_QUERY },
    logging: false,
    maskedErrors: {
      maskError(error) {
        const original = isGraphQLError(error) ? error.originalError : error;
        if (isGraphQLError(error) && (!original || isGraphQLError(original))) return withoutOriginalError(error);
        if (isDatabaseUnavailable(original)) {
          logger.warn('database unavailable', { error: original });
          const unavailable = serviceUnavailable();
          return new GraphQLError(unavailable.message, {
            nodes: isGraphQLError(error) ? error.nodes : undefined,
            path: isGraphQLError(error) ? error.path : undefined,
            extensions: unavailable.extensions,
          });
        }
        const requestId = randomUUID();
        logger.error('unexpected error', { requestId, error: original });
        return new GraphQLError('Unexpected error.', {
          nodes: isGraphQLError(error) ? error.nodes : undefined,
          path: isGraphQLError(error) ? error.path : undefined,
          extensions: { code: 'INTERNAL', requestId },
        });
      },
    },
    plugins: [
      useRequestBodyLimits(),
      useGetParamsCheck('/graphql'),
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'x-api-key', 'authorization'] }),
      useNestingLimit(),
      ...graphqlLimits(config),
      useRejectNulBytes(),
      useStatusCodes(),
      useStreamLimit(config.STREAMS_PER_KEY_MAX),
      useRateLimitHeaders(rateLimiter),
      useReadiness(deps.database.db),
      useMetrics(metrics, { token: config.METRICS_TOKEN, serve: !config.METRICS_PORT }),
    ],
    context: async ({ request, req }): Promise<Context> => {
      const apiKey = readApiKey(request.headers);
      const isAdmin = apiKey !== null && !!config.ADMIN_API_KEY && timingSafeEqualText(apiKey, config.ADMIN_API_KEY);
      const viewer = apiKey && !isAdmin ? ((await authenticate(apiKey)) ?? null) : null;
      return {
        viewer,
        isAdmin,
        services,
        requestId: randomUUID(),
        clientAddress: clientAddress(request, req, config.TRUST_PROXY),
        rateLimit: rateLimiter.startRequest(request),
      };
    },
  });
}

// By name, not instanceof: graphql can be loaded twice (ESM and CJS) and the check must hold for both.
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

/**
 * Yoga's request-parse errors carry the parser's message, which quotes the client's body back.
 * The name stays: yoga answers 400 rather than 200 because a non-GraphQL original error exists.
 */
function withoutOriginalError(error: GraphQLError): GraphQLError {
  const original = error.extensions?.originalError as { name?: string } | undefined;
  if (!original) return error;
  const extensions = { ...error.extensions, originalError: { name: original.name, message: error.message } };
  return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions });
}

function clientAddress(request: Request, req: IncomingMessage | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    // The last entry is the one the trusted proxy appended; earlier ones come from the client
    // and would let it pick a fresh rate-limit identity per request.
    const forwarded = request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return req?.socket.remoteAddress ?? 'unknown';
}

const GRAPHIQL_DEFAULT_QUERY = `# Welcome to Alertwire. Register first, then put the API key in the Headers tab:
#   { "X-API-Key": "aw_..." }
mutation Register {
  register(input: { name: "Ada", email: "ada@example.com" }) {
    apiKey
    user { id name email }
  }
}
`;
