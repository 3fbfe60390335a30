import type { Server } from 'node:http';
import { GraphQLError, getOperationAST, type ExecutionArgs } from 'graphql';
import type { FormattedExecutionResult, OperationResult } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import type { App } from '../app.js';
import { MAX_BODY_BYTES } from './request-body.plugin.js';
import { withoutHttpExtension } from './status-codes.plugin.js';

/** What a client may put in `connectionParams`: the same headers it would send over HTTP. */
const ConnectionParams = z
  .object({
    'x-api-key': z.string().optional(),
    authorization: z.string().optional(),
    apikey: z.string().optional(),
    headers: z.record(z.string(), z.unknown()).optional(),
  })
  .catchall(z.unknown());

/**
 * The credentials in `connectionParams` as request headers, so a WebSocket operation is
 * authenticated (and rate-limited) by the same context code as an HTTP request. Accepted:
 * `{ "X-API-Key": key }`, `{ Authorization: "Bearer key" }`, `{ apiKey: key }`, or any of them
 * under `headers`; names are case-insensitive.
 */
function connectionHeaders(connectionParams: unknown, upgrade: { headers: Record<string, unknown> }): Headers {
  const lower = (value: unknown) =>
    Object.fromEntries(Object.entries(value && typeof value === 'object' ? value : {}).map(([k, v]) => [k.toLowerCase(), v]));
  const raw = lower(connectionParams);
  const parsed = ConnectionParams.safeParse({ ...raw, ...lower(raw.headers) });
  const params = parsed.success ? parsed.data : {};
  const headers = new Headers();
  const key = params['x-api-key'] ?? params.apikey;
  if (key) headers.set('x-api-key', key);
  if (params.authorization) headers.set('authorization', params.authorization);
  const forwarded = upgrade.headers['x-forwarded-for'];
  if (typeof forwarded === 'string') headers.set('x-forwarded-for', forwarded);
  return headers;
}

export interface WebSocketEndpoint {
  /** Closes every socket (1001 Going Away) and stops accepting upgrades. */
  close(): Promise<void>;
}

/**
 * The graphql-ws protocol on the server's GraphQL path. Each operation runs through yoga's
 * envelop (parse limits, validation, masked errors) with a context built from the connection's
 * credentials, exactly as over HTTP.
 */
export function attachWebSocket(server: Server, app: App, path = app.graphqlEndpoint): WebSocketEndpoint {
  const wss = new WebSocketServer({ server, path, maxPayload: MAX_BODY_BYTES });
  const synthetic = (ctx: { connectionParams?: unknown; extra: { request: { headers: Record<string, unknown> } } }) =>
    // POST: yoga runs mutations only for non-GET requests, and a socket message is no GET.
    new Request(`http://localhost${path}`, { method: 'POST', headers: connectionHeaders(ctx.connectionParams, ctx.extra.request) });

  const disposable = useServer(
    {
      execute: (args) => (args as EnvelopedArgs).rootValue.execute(args),
      // A 401's status for yoga's HTTP answer rode along to WebSocket clients in `extensions.http`.
      onNext: (_ctx, _id, _payload, _args, result) => {
        const clean = withoutHttpExtension(result);
        return clean === result ? undefined : (clean as FormattedExecutionResult);
      },
      subscribe: (args) => (args as EnvelopedArgs).rootValue.subscribe(args),
      async onConnect(ctx) {
        const request = synthetic(ctx);
        if (!request.headers.has('x-api-key') && !request.headers.has('authorization')) return true;
        // A wrong key fails the connection (4403) instead of every operation on it.
        const { contextFactory } = app.getEnveloped({ request, req: ctx.extra.request } as never);
        const context = (await contextFactory()) as { viewer: unknown; isAdmin: boolean };
        return Boolean(context.viewer || context.isAdmin);
      },
      async onSubscribe(ctx, _id, payload) {
        const request = synthetic(ctx);
        const enveloped = app.getEnveloped({ request, req: ctx.extra.request, params: payload } as never);
        let document: ReturnType<typeof enveloped.parse>;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Syntax error')];
        }
        const errors = enveloped.validate(enveloped.schema, document);
        if (errors.length) return errors;
        const operation = getOperationAST(document, payload.operationName);
        return {
          schema: enveloped.schema,
          document,
          contextValue: await enveloped.contextFactory(),
          variableValues: payload.variables,
          operationName: payload.operationName,
          // yoga's recipe: the enveloped execute/subscribe travel to execute() and subscribe() above.
          rootValue: {
            execute: enveloped.execute as EnvelopedArgs['rootValue']['execute'],
            subscribe: (operation?.operation === 'subscription' ? enveloped.subscribe : enveloped.execute) as EnvelopedArgs['rootValue']['subscribe'],
          },
        };
      },
    },
    wss,
  );
  return {
    async close() {
      await disposable.dispose();
    },
  };
}

type EnvelopedArgs = ExecutionArgs & {
  rootValue: { execute: (args: ExecutionArgs) => OperationResult; subscribe: (args: ExecutionArgs) => OperationResult };
};
