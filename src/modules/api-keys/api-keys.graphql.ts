import { builder } from '../../builder.js';
import { ApiKeyLimitExceeded, ApiKeyNotFound, LastApiKey, ValidationError } from '../../errors.js';
import type { ApiKeyRow } from './api-keys.repository.js';

const ApiKey = builder.objectRef<ApiKeyRow>('ApiKey').implement({
  description: 'One of the viewer\'s API keys; the key itself is shown only when it is created.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.string({
      description: "The key's first characters, e.g. aw_AbC1…; keys from before named keys existed show only aw_…",
      resolve: (k) => `${k.prefix}…`,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the key was last presented, to within about a minute.',
    }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({ name: t.string({ required: true, description: '1–100 characters.' }) }),
});

const CreateApiKeySuccess = builder.objectRef<{ apiKey: string; key: ApiKeyRow }>('CreateApiKeySuccess').implement({
  fields: (t) => ({
    apiKey: t.exposeString('apiKey', { description: 'The key, shown this once.' }),
    key: t.expose('key', { type: ApiKey }),
  }),
});

const RevokeApiKeySuccess = builder.objectRef<{ id: string; message: string }>('RevokeApiKeySuccess').implement({
  fields: (t) => ({ id: t.exposeID('id'), message: t.exposeString('message') }),
});

builder.queryField('apiKeys', (t) =>
  t.withAuth({ viewer: true }).field({
    type: [ApiKey],
    description: "The viewer's API keys (never the keys themselves).",
    resolve: (_root, _args, ctx) => ctx.services.apiKeys.list(ctx.viewer.id),
  }),
);

builder.mutationField('createApiKey', (t) =>
  t.withAuth({ viewer: true }).field({
    type: CreateApiKeySuccess,
    description: 'Creates another API key for the viewer; at most 10 per account.',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    errors: { types: [ApiKeyLimitExceeded, ValidationError], directResult: true, union: { name: 'CreateApiKeyResult' } },
    resolve: (_root, { input }, ctx) => ctx.services.apiKeys.create(ctx.viewer.id, input),
  }),
);

builder.mutationField('revokeApiKey', (t) =>
  t.withAuth({ viewer: true }).field({
    type: RevokeApiKeySuccess,
    description: 'Takes effect at once, on every process. The last key of an account cannot be revoked.',
    args: { id: t.arg.id({ required: true }) },
    errors: { types: [ApiKeyNotFound, LastApiKey], directResult: true, union: { name: 'RevokeApiKeyResult' } },
    resolve: (_root, { id }, ctx) => ctx.services.apiKeys.revoke(ctx.viewer.id, id),
  }),
);
