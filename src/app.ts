import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Clock } from './clock.js';
import type { Context, Services } from './context.js';
import type { Database } from './db/client.js';
import type { Config } from './env.js';
import { useReadiness } from './http/readiness.plugin.js';
import { useStatusCodes } from './http/status-codes.plugin.js';
import { useMetrics } from './metrics/metrics.plugin.js';
import type { Logger } from './logger.js';
import { readApiKey, timingSafeEqualText } from './modules/users/api-key.js';
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
}

export interface ServerContext {
  req?: IncomingMessage;
}

export type App = YogaServerInstance<ServerContext, Context>;

export function createServices(deps: AppDeps): Services {
  const { database, clock, secretBox } = deps;
  const db = database.db;
  return {
    users: usersService({ db, clock }),
    webhooks: webhooksService({ db, clock, secretBox }),
  };
}

/** Builds the yoga instance; never listens (main.ts does). */
export function createApp(deps: AppDeps): App {
  const { config, logger } = deps;
  const services = createServices(deps);

  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: { title: 'Alertwire', defaultQuery: GRAPHIQL_DEFAULT_QUERY },
    logging: false,
    maskedErrors: {
      maskError(error) {
        const original = isGraphQLError(error) ? error.originalError : error;
        if (isGraphQLError(error) && (!original || isGraphQLError(original))) return error;
        const requestId = randomUUID();
        logger.error('unexpected error', { requestId, error: original });
        return new GraphQLError('Unexpected error.', {
          nodes: isGraphQLError(error) ? error.nodes : undefined,
          path: isGraphQLError(error) ? error.path : undefined,
          extensions: { code: 'INTERNAL', requestId },
        });
      },
    },
    plugins: [useStatusCodes(), useReadiness(deps.database.db), useMetrics(deps.database.db)],
    context: async ({ request, req }): Promise<Context> => {
      const apiKey = readApiKey(request.headers);
      const isAdmin = apiKey !== null && !!config.ADMIN_API_KEY && timingSafeEqualText(apiKey, config.ADMIN_API_KEY);
      const viewer = apiKey && !isAdmin ? ((await services.users.authenticate(apiKey)) ?? null) : null;
      return {
        viewer,
        isAdmin,
        services,
        requestId: randomUUID(),
        clientAddress: clientAddress(request, req, config.TRUST_PROXY),
      };
    },
  });
}

// By name, not instanceof: graphql can be loaded twice (ESM and CJS) and the check must hold for both.
function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

function clientAddress(request: Request, req: IncomingMessage | undefined, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
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
