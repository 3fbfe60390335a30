import type { IncomingMessage, ServerResponse } from 'node:http';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Clock } from './clock.js';
import type { Context, Services } from './context.js';
import type { Database } from './db/client.js';
import type { Config } from './env.js';
import { corsOptions } from './http/cors.js';
import { useCsrfPrevention } from './http/csrf.plugin.js';
import { useMediaTypeChecks } from './http/media-types.plugin.js';
import { useEndStreamsOfRemovedKeys } from './http/revoked-key-streams.plugin.js';
import { useGetParamsCheck } from './http/get-params.plugin.js';
import { withCombinedHooks } from './http/combined-hooks.js';
import { maskError, maskOutsideExecution, useMaskedErrorsWithRequestId } from './http/masked-errors.plugin.js';
import { graphiqlOptions, renderGraphiQL, useGraphiQLAssets } from './http/graphiql.js';
import { useGraphQLSSESingleConnection } from './http/graphql-sse.plugin.js';
import { useMultipartSubscriptions } from './http/multipart-subscriptions.plugin.js';
import { graphqlLimits } from './http/graphql-limits.js';
import { useNestingLimit } from './http/nesting-limit.plugin.js';
import { useReadiness } from './http/readiness.plugin.js';
import { useRejectNulBytes } from './http/reject-nul-bytes.plugin.js';
import { useRequestBodyLimits } from './http/request-body.plugin.js';
import { requestIdOf, useRequestId, type RequestIdServerContext } from './http/request-id.plugin.js';
import { useStatusCodes } from './http/status-codes.plugin.js';
import { useStreamLimit } from './http/stream-limit.plugin.js';
import { useStreamingResponses } from './http/streaming-responses.js';
import { useRateLimit } from './rate-limit/rate-limit.plugin.js';
import { createRateLimiter, type RateLimitOptions } from './rate-limit/rate-limiter.js';
import { RequestLedger } from './rate-limit/request-ledger.js';
import { createDeliveryEventHub } from './delivery/delivery-events.js';
import { deliveriesService } from './modules/deliveries/deliveries.service.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { useMetrics } from './metrics/metrics.plugin.js';
import type { Logger } from './logger.js';
import { matchesSecret, readApiKey } from './modules/users/api-key.js';
import { createAlertEventHub } from './modules/alerts/alert-events.js';
import { alertsService } from './modules/alerts/alerts.service.js';
import { createQuoteSource, quotesService } from './modules/quotes/quotes.service.js';
import { usersService } from './modules/users/users.service.js';
import type { SecretBox } from './modules/webhooks/secret-box.js';
import { webhooksService } from './modules/webhooks/webhooks.service.js';
import { createApiKeyCache } from './modules/api-keys/api-key-cache.js';
import { findHolderAdoptingLegacyKey } from './modules/api-keys/legacy-api-key.js';
import { apiKeysService } from './modules/api-keys/api-keys.service.js';
import { createWebhookUpdates } from './modules/webhooks/webhook-updates.js';
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

interface ServerContext extends RequestIdServerContext {
  req?: IncomingMessage;
  res?: ServerResponse;
}

export type App = YogaServerInstance<ServerContext, Context>;

export function createServices(deps: AppDeps): Services {
  const { database, clock, secretBox } = deps;
  // The request path answers within its deadline (SERVICE_UNAVAILABLE); the worker and the evaluator keep database.db.
  const db = database.withDeadline(deps.config.DATABASE_REQUEST_TIMEOUT_MS);
  const quoteSource = createQuoteSource({ db, config: deps.config, clock, logger: deps.logger });
  const deliveries = deliveriesService({
    db,
    clock,
    logger: deps.logger,
    config: deps.config,
    events: createDeliveryEventHub(database, deps.logger),
  });
  const apiKeys = apiKeysService({
    db,
    clock,
    logger: deps.logger,
    cache: createApiKeyCache({ listen: database.listen, clock, logger: deps.logger, load: findHolderAdoptingLegacyKey(db) }),
  });
  return {
    users: usersService({ db, clock, apiKeys }),
    apiKeys,
    webhooks: webhooksService({
      db,
      clock,
      secretBox,
      allowPrivateNetworks: deps.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      updates: createWebhookUpdates(database, deps.logger),
      cancelPending: deliveries.cancelPending,
    }),
    quotes: quotesService({ db, clock, source: quoteSource }),
    alerts: alertsService({
      db,
      clock,
      quoteSource,
      logger: deps.logger,
      enqueueDelivery: (userId, payload, options) => deliveries.enqueue(userId, payload, options),
      findDelivery: (userId, id) => deliveries.find(userId, id),
      events: createAlertEventHub(database, deps.logger),
    }),
    deliveries,
  };
}

/** Builds the yoga instance; never listens (main.ts does). */
export function createApp(deps: AppDeps): App {
  const { config, logger } = deps;
  const services = createServices(deps);
  const rateLimiter = createRateLimiter({ config, clock: deps.clock, logger, options: deps.rateLimit });
  const metrics = deps.metrics ?? createMetrics();
  metrics.watchQueue(deps.database.withDeadline(config.DATABASE_REQUEST_TIMEOUT_MS), deps.clock);

  const isAdminKey = config.ADMIN_API_KEY ? matchesSecret(config.ADMIN_API_KEY) : () => false;

  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: graphiqlOptions,
    renderGraphiQL,
    // Apollo Client 4 operations carry `operationType`; links that spread the operation into the
    // request body (yoga's own SSE link recipe) sent it, and yoga answered 400.
    extraParamNames: ['operationType'],
    cors: corsOptions(config.CORS_ORIGINS),
    logging: false,
    // useRequestBodyLimits already refuses bodies over 100 kB and hands on the bytes it read;
    // yoga's own limit would pipe every body through a second stream on top (~8 % of a read).
    maxRequestBodySize: false,
    // graphqlLimits validates each document once, in its own cache.
    parserAndValidationCache: { validationCache: false },
    // No operation takes a file: a multipart body is only ever a CSRF attempt or a mistake (415).
    multipart: false,
    maskedErrors: { maskError: maskOutsideExecution(logger) },
    // Their onRequest/onResponse/onExecute hooks run as one each (src/http/combined-hooks.ts):
    // onExecute and its onExecuteDone/onNext must stay synchronous there.
    plugins: withCombinedHooks([
      useRequestId(),
      useStreamingResponses(),
      useGraphiQLAssets(),
      useRequestBodyLimits(),
      useGetParamsCheck('/graphql'),
      useGraphQLSSESingleConnection('/graphql', {
        identify: async (key) => (await services.users.authenticate(key))?.id ?? null,
        maxPerKey: config.STREAMS_PER_KEY_MAX,
        clock: deps.clock,
      }),
      useCsrfPrevention(),
      useNestingLimit(),
      ...graphqlLimits(config),
      useRejectNulBytes(),
      useStatusCodes(),
      useMultipartSubscriptions(),
      useMediaTypeChecks(),
      useStreamLimit(config.STREAMS_PER_KEY_MAX),
      useEndStreamsOfRemovedKeys(services.apiKeys),
      useRateLimit(rateLimiter),
      useReadiness(deps.database),
      useMetrics(metrics, { token: config.METRICS_TOKEN, serve: !config.METRICS_PORT }),
      useMaskedErrorsWithRequestId(),
    ]),
    context: async ({ request, req, requestId = requestIdOf(request) }): Promise<Context> => {
      const requestLogger = logger.child({ requestId });
      const apiKey = readApiKey(request.headers);
      const isAdmin = apiKey !== null && isAdminKey(apiKey);
      let viewer: Context['viewer'] = null;
      try {
        if (apiKey && !isAdmin) viewer = (await services.users.authenticate(apiKey)) ?? null;
      } catch (error) {
        // Nothing in the request can run without its viewer: an unreachable database answers 503 here.
        throw maskError(error, { requestId, logger: requestLogger });
      }
      return {
        viewer,
        isAdmin,
        services,
        requestId,
        logger: requestLogger,
        clientAddress: clientAddress(request, req, config.TRUST_PROXY),
        rateLimit: new RequestLedger(rateLimiter),
      };
    },
  });
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
