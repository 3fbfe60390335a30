import { builder } from '../../builder.js';
import { InvalidWebhookUrl, ValidationError, WebhookNotFound } from '../../errors.js';
import { eventTypesOf, type WEBHOOK_EVENT_TYPE_NAMES } from './webhook-event-types.js';
import type { WebhookRow } from './webhooks.repository.js';

const WebhookEventTypeEnum = builder.enumType('WebhookEventType', {
  values: {
    ALERTS_TRIGGERED: { description: 'alerts.triggered: alerts crossed their condition.' },
    ALERTS_RESOLVED: { description: "alerts.resolved: a triggered alert's condition is false again." },
    WEBHOOK_PING: { description: 'webhook.ping: sendTestWebhook, which is sent whatever the filter says.' },
  } satisfies Record<(typeof WEBHOOK_EVENT_TYPE_NAMES)[number], unknown>,
});

const Webhook = builder.objectRef<WebhookRow>('Webhook').implement({
  fields: (t) => ({
    url: t.exposeString('url'),
    hasSecret: t.boolean({ resolve: (w) => w.secretCiphertext !== null }),
    isActive: t.exposeBoolean('isActive', {
      description: 'False once the webhook was disabled after repeated failures; enableWebhook or setWebhook re-activates it.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    events: t.field({
      type: [WebhookEventTypeEnum],
      description: 'The event types this endpoint receives.',
      resolve: (w) => eventTypesOf(w.events),
    }),
    disabledAt: t.expose('disabledAt', { type: 'DateTime', nullable: true }),
    disabledReason: t.exposeString('disabledReason', { nullable: true }),
    secretRotatedAt: t.expose('secretRotatedAt', { type: 'DateTime', nullable: true }),
    previousSecretExpiresAt: t.expose('previousSecretExpiresAt', {
      type: 'DateTime',
      nullable: true,
      description: 'Until then the secret before the last rotation also signs webhook-signature.',
    }),
  }),
});

const SetWebhookInput = builder.inputType('SetWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http or https, at most 2048 characters, no credentials.' }),
    secret: t.string({
      description:
        'Signs every delivery; 1–256 characters, and base64 after the prefix when it starts with whsec_ (Standard Webhooks). Never returned by any query. Omitted: the current secret is kept. null: the secret is removed and deliveries go unsigned.',
    }),
    events: t.field({
      type: [WebhookEventTypeEnum],
      description: 'Event types this endpoint receives; default all. sendTestWebhook always goes. Omitted: kept as they are. null: all.',
    }),
  }),
});

const RotateWebhookSecretInput = builder.inputType('RotateWebhookSecretInput', {
  fields: (t) => ({
    secret: t.string({ description: 'The new secret; when omitted the server generates a whsec_ secret.' }),
    overlapSeconds: t.int({ description: 'How long the previous secret also signs, in seconds; default 86400 (at most 30 days).' }),
  }),
});

const RotateWebhookSecretSuccess = builder.objectRef<{ secret: string; webhook: WebhookRow }>('RotateWebhookSecretSuccess').implement({
  fields: (t) => ({
    secret: t.exposeString('secret', { description: 'The new secret, shown this once.' }),
    webhook: t.expose('webhook', { type: Webhook }),
  }),
});

const EnableWebhookSuccess = builder.objectRef<{ webhook: WebhookRow }>('EnableWebhookSuccess').implement({
  fields: (t) => ({ webhook: t.expose('webhook', { type: Webhook }) }),
});

const SetWebhookSuccess = builder
  .objectRef<{ webhook: WebhookRow; created: boolean; message: string }>('SetWebhookSuccess')
  .implement({
    fields: (t) => ({
      webhook: t.expose('webhook', { type: Webhook }),
      created: t.exposeBoolean('created', {
        description:
          'True when no webhook existed before (the REST original answered 201), false when replaced (200).',
      }),
      message: t.exposeString('message'),
    }),
  });

const DeleteWebhookSuccess = builder.objectRef<{ message: string }>('DeleteWebhookSuccess').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.queryField('webhook', (t) =>
  t.withAuth({ viewer: true }).field({
    type: Webhook,
    nullable: true,
    description: "The viewer's webhook, or null when none is configured.",
    resolve: async (_root, _args, ctx) => (await ctx.services.webhooks.get(ctx.viewer.id)) ?? null,
  }),
);

builder.mutationField('setWebhook', (t) =>
  t.withAuth({ viewer: true }).field({
    type: SetWebhookSuccess,
    description: "Creates or replaces the viewer's single webhook.",
    args: { input: t.arg({ type: SetWebhookInput, required: true }) },
    errors: { types: [InvalidWebhookUrl, ValidationError], directResult: true, union: { name: 'SetWebhookResult' } },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.set(ctx.viewer.id, input),
  }),
);

builder.mutationField('deleteWebhook', (t) =>
  t.withAuth({ viewer: true }).field({
    type: DeleteWebhookSuccess,
    errors: { types: [WebhookNotFound], directResult: true, union: { name: 'DeleteWebhookResult' } },
    resolve: (_root, _args, ctx) => ctx.services.webhooks.delete(ctx.viewer.id),
  }),
);

builder.mutationField('rotateWebhookSecret', (t) =>
  t.withAuth({ viewer: true }).field({
    type: RotateWebhookSecretSuccess,
    description: 'Starts signing with a new secret; the previous one also signs until the overlap ends.',
    args: { input: t.arg({ type: RotateWebhookSecretInput, required: true }) },
    errors: { types: [WebhookNotFound, ValidationError], directResult: true, union: { name: 'RotateWebhookSecretResult' } },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.rotateSecret(ctx.viewer.id, input),
  }),
);

builder.mutationField('enableWebhook', (t) =>
  t.withAuth({ viewer: true }).field({
    type: EnableWebhookSuccess,
    description: 'Re-activates a webhook that was disabled after repeated failures.',
    errors: { types: [WebhookNotFound], directResult: true, union: { name: 'EnableWebhookResult' } },
    resolve: (_root, _args, ctx) => ctx.services.webhooks.enable(ctx.viewer.id),
  }),
);

builder.subscriptionField('webhookUpdated', (t) =>
  t.withAuth({ viewer: true }).field({
    type: Webhook,
    description: "Every change of the viewer's webhook (disabled, enabled, secret rotated), from any process.",
    subscribe: (_root, _args, ctx) => ctx.services.webhooks.subscribe(ctx.viewer.id),
    resolve: (webhook) => webhook,
  }),
);
