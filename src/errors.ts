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
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
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
  constructor(readonly id: string) {
    super(`Delivery ${id} was not found`);
  }
}

export class AlertNotFound extends DomainError {
  override name = 'AlertNotFound';
  constructor(readonly id: string) {
    super(`Alert ${id} was not found`);
  }
}

export class AlertLimitExceeded extends DomainError {
  override name = 'AlertLimitExceeded';
  constructor(readonly maxAlerts: number) {
    super(`An account can have at most ${maxAlerts} alerts; delete one first`);
  }
}

export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'RATE_LIMITED' | 'BAD_USER_INPUT' | 'SERVICE_UNAVAILABLE' | 'INTERNAL';

/** Cross-cutting failures: GraphQL errors with an extensions.code, never masked. */
export function codedError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/** For fields whose payload has no union to carry a ValidationError: BAD_USER_INPUT with the fields. */
export function badUserInput(error: ValidationError): GraphQLError {
  return codedError('BAD_USER_INPUT', error.message, { validationError: 'ValidationError', fields: error.fields });
}

/** Maps zod issues to the schema's field paths. */
export function validationErrorFromZod(issues: { path: PropertyKey[]; message: string }[]): ValidationError {
  return new ValidationError(issues.map((i) => ({ path: i.path.map(String), message: i.message })));
}
