import { GraphQLError } from 'graphql';

/** Expected failures a client branches on; each is an object type of the schema. */
export class DomainError extends Error {
  override name = 'DomainError';
}

export interface FieldIssue {
  path: string[];
  message: string;
}

export class ValidationError extends DomainError {
  override name = 'ValidationError';
  constructor(
    readonly fields: FieldIssue[],
    message = fields.length === 1 ? fields[0]!.message : `${fields.length} fields are invalid`,
  ) {
    super(message);
  }
}

export class InvalidWebhookUrl extends DomainError {
  override name = 'InvalidWebhookUrl';
  readonly url: string;
  constructor(message: string, url: string) {
    super(message);
    // A valid URL is at most 2048 characters: quoting a little beyond shows why it was refused.
    this.url = echo(url, 4096);
  }
}

export class WebhookNotFound extends DomainError {
  override name = 'WebhookNotFound';
  constructor(message = 'No webhook is configured for this account') {
    super(message);
  }
}

export class DeliveryNotFound extends DomainError {
  override name = 'DeliveryNotFound';
  readonly id: string;
  constructor(id: string) {
    super(`Delivery ${echo(id)} was not found`);
    this.id = echo(id);
  }
}

export class AlertNotFound extends DomainError {
  override name = 'AlertNotFound';
  readonly id: string;
  constructor(id: string) {
    super(`Alert ${echo(id)} was not found`);
    this.id = echo(id);
  }
}

export class AlertLimitExceeded extends DomainError {
  override name = 'AlertLimitExceeded';
  constructor(readonly maxAlerts: number) {
    super(`An account can have at most ${maxAlerts} alerts; delete one first`);
  }
}

export class ApiKeyLimitExceeded extends DomainError {
  override name = 'ApiKeyLimitExceeded';
  constructor(readonly maxKeys: number) {
    super(`An account can have at most ${maxKeys} API keys; revoke one first`);
  }
}

export class ApiKeyNotFound extends DomainError {
  override name = 'ApiKeyNotFound';
  constructor(readonly id: string) {
    super(`API key ${id} was not found`);
  }
}

export class LastApiKey extends DomainError {
  override name = 'LastApiKey';
  constructor() {
    super('This is the last API key of the account; create another one before revoking it');
  }
}

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'TOO_MANY_STREAMS'
  | 'SUBSCRIBER_TOO_SLOW'
  | 'STREAM_INTERRUPTED'
  | 'BAD_USER_INPUT'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL';

/** A client's argument as an error may quote it: a short prefix, never the whole of a huge value. */
function echo(value: string, limit = 64): string {
  return value.length > limit ? `${value.slice(0, limit)}…` : value;
}

/** Cross-cutting failures: GraphQL errors with an extensions.code, never masked. */
export function codedError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** For fields whose payload has no union to carry a ValidationError: BAD_USER_INPUT with the fields. */
function badUserInput(error: ValidationError): GraphQLError {
  return codedError('BAD_USER_INPUT', error.message, { validationError: 'ValidationError', fields: error.fields });
}

/** Runs a resolver of such a field, turning its ValidationError into badUserInput. */
export async function withBadUserInput<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw error instanceof ValidationError ? badUserInput(error) : error;
  }
}

/** zod issues as the schema's field paths, each below `prefix` (the argument that was parsed). */
export function fieldIssues(issues: readonly { path: PropertyKey[]; message: string }[], prefix: (string | number)[] = []): FieldIssue[] {
  return issues.map((i) => ({ path: [...prefix, ...i.path].map(String), message: i.message }));
}

export function validationErrorFromZod(issues: readonly { path: PropertyKey[]; message: string }[], prefix: (string | number)[] = []): ValidationError {
  return new ValidationError(fieldIssues(issues, prefix));
}
