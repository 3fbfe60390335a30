import { builder } from '../../builder.js';
import {
  AlertLimitExceeded,
  AlertNotFound,
  ApiKeyLimitExceeded,
  ApiKeyNotFound,
  DeliveryNotFound,
  LastApiKey,
  type DomainError,
  InvalidWebhookUrl,
  ValidationError,
  WebhookNotFound,
  type FieldIssue,
} from '../../errors.js';

const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

const FieldError = builder.objectRef<FieldIssue>('FieldError').implement({
  description: 'One invalid input field: its path from the input argument, and why.',
  fields: (t) => ({
    path: t.exposeStringList('path'),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ fields: t.field({ type: [FieldError], resolve: (e) => e.fields }) }),
});

builder.objectType(InvalidWebhookUrl, {
  name: 'InvalidWebhookUrl',
  interfaces: [ErrorInterface],
  fields: (t) => ({ url: t.exposeString('url') }),
});

builder.objectType(WebhookNotFound, { name: 'WebhookNotFound', interfaces: [ErrorInterface] });

builder.objectType(DeliveryNotFound, {
  name: 'DeliveryNotFound',
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeID('id') }),
});

builder.objectType(AlertNotFound, {
  name: 'AlertNotFound',
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeID('id') }),
});

builder.objectType(AlertLimitExceeded, {
  name: 'AlertLimitExceeded',
  interfaces: [ErrorInterface],
  fields: (t) => ({ maxAlerts: t.exposeInt('maxAlerts') }),
});

builder.objectType(ApiKeyLimitExceeded, {
  name: 'ApiKeyLimitExceeded',
  interfaces: [ErrorInterface],
  fields: (t) => ({ maxKeys: t.exposeInt('maxKeys') }),
});

builder.objectType(ApiKeyNotFound, {
  name: 'ApiKeyNotFound',
  interfaces: [ErrorInterface],
  fields: (t) => ({ id: t.exposeID('id') }),
});

builder.objectType(LastApiKey, { name: 'LastApiKey', interfaces: [ErrorInterface] });
