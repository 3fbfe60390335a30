import { builder } from '../../builder.js';
import { requireViewer } from '../../context.js';
import { InvalidWebhookUrl, ValidationError, WebhookNotFound } from '../../errors.js';
import type { WebhookRow } from './webhooks.repository.js';

export const Webhook = builder.objectRef<WebhookRow>('Webhook').implement({
  fields: (t) => ({
    url: t.exposeString('url'),
    hasSecret: t.boolean({ resolve: (w) => w.secretCiphertext !== null }),
    isActive: t.exposeBoolean('isActive'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const SetWebhookInput = builder.inputType('SetWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http or https, at most 2048 characters, no credentials.' }),
    secret: t.string({ description: 'Signs every delivery; 1–256 characters. Never returned by any query.' }),
  }),
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
  t.field({
    type: Webhook,
    nullable: true,
    description: "The viewer's webhook, or null when none is configured.",
    resolve: async (_root, _args, ctx) => (await ctx.services.webhooks.get(requireViewer(ctx).id)) ?? null,
  }),
);

builder.mutationField('setWebhook', (t) =>
  t.field({
    type: SetWebhookSuccess,
    description: "Creates or replaces the viewer's single webhook.",
    args: { input: t.arg({ type: SetWebhookInput, required: true }) },
    errors: { types: [InvalidWebhookUrl, ValidationError], directResult: true, union: { name: 'SetWebhookResult' } },
    resolve: (_root, { input }, ctx) => ctx.services.webhooks.set(requireViewer(ctx).id, input),
  }),
);

builder.mutationField('deleteWebhook', (t) =>
  t.field({
    type: DeleteWebhookSuccess,
    errors: { types: [WebhookNotFound], directResult: true, union: { name: 'DeleteWebhookResult' } },
    resolve: (_root, _args, ctx) => ctx.services.webhooks.delete(requireViewer(ctx).id),
  }),
);
