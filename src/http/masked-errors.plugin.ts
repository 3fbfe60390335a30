import { randomUUID } from 'node:crypto';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import { isDatabaseUnavailable, serviceUnavailable } from '../db/unavailable.js';
import type { Logger } from '../logger.js';

/** What a request's context carries for its errors: its id and the logger that writes it. */
interface RequestLog {
  requestId: string;
  logger: Logger;
}

/**
 * Coded errors pass; an unreachable database becomes SERVICE_UNAVAILABLE; anything else is logged
 * under the request id and answered as "Unexpected error." with code INTERNAL and that id only.
 */
export function maskError(error: unknown, { requestId, logger }: RequestLog): GraphQLError {
  const original = isGraphQLError(error) ? error.originalError : error;
  if (isGraphQLError(error) && (!original || isGraphQLError(original))) return withoutOriginalError(error);
  const located = { nodes: isGraphQLError(error) ? error.nodes : undefined, path: isGraphQLError(error) ? error.path : undefined };
  if (isDatabaseUnavailable(original)) {
    logger.warn('database unavailable', { error: original });
    const unavailable = serviceUnavailable();
    return new GraphQLError(unavailable.message, { ...located, extensions: unavailable.extensions });
  }
  logger.error('unexpected error', { error: original });
  return new GraphQLError('Unexpected error.', { ...located, extensions: { code: 'INTERNAL', requestId } });
}

/**
 * Masks every execution result with its own request's id and logger, which yoga's maskError is
 * not given. It runs before yoga's masking, which then only sees errors raised outside an
 * execution (request parsing): those are masked by `maskOutsideExecution`.
 */
export function useMaskedErrorsWithRequestId(): Plugin<RequestLog> {
  const masked =
    (contextValue: RequestLog) =>
    ({ result, setResult }: { result: ExecutionResult; setResult: (result: ExecutionResult) => void }) => {
      if (!result.errors?.length) return;
      // No `data` at all: execution never started, because the variables did not fit their types
      // (graphql-js's request errors); coded like any other bad input.
      const requestError = !('data' in result);
      setResult({ ...result, errors: result.errors.map((error) => maskError(requestError ? withCode(error, 'BAD_USER_INPUT') : error, contextValue)) });
    };
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, masked(args.contextValue)),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, masked(args.contextValue)),
      onSubscribeError: ({ error, setError }) => setError(maskError(error, args.contextValue)),
    }),
  };
}

export const maskOutsideExecution = (logger: Logger) => (error: unknown) =>
  maskError(error, { requestId: randomUUID(), logger });

/** The error with `extensions.code`, unless it has one or is not a plain GraphQLError. */
function withCode(error: unknown, code: string): unknown {
  if (!isGraphQLError(error) || error.extensions?.code !== undefined) return error;
  // A coercion failure keeps its scalar's GraphQLError as originalError; anything else is not bad input.
  if (error.originalError && !isGraphQLError(error.originalError)) return error;
  return new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: { ...error.extensions, code } });
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
