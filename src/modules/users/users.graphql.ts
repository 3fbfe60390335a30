import { builder } from '../../builder.js';
import { withBadUserInput } from '../../errors.js';
import type { User as UserModel } from './users.repository.js';

const User = builder.objectRef<UserModel>('User').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    email: t.exposeString('email'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    email: t.string({ required: true }),
  }),
});

const RegisterPayload = builder.objectRef<{ user: UserModel; apiKey: string }>('RegisterPayload').implement({
  fields: (t) => ({
    user: t.expose('user', { type: User }),
    apiKey: t.exposeString('apiKey', { description: 'Shown this once; only its hash is stored.' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.withAuth({ viewer: true }).field({ type: User, resolve: (_root, _args, ctx) => ctx.viewer }),
);

builder.mutationField('register', (t) =>
  t.field({
    type: RegisterPayload,
    description: 'Public: creates a user and returns its API key, shown this once.',
    args: { input: t.arg({ type: RegisterInput, required: true }) },
    // RegisterPayload has no union in the contract, so bad input is a coded error carrying the fields.
    resolve: (_root, { input }, ctx) => withBadUserInput(() => ctx.services.users.register(input)),
  }),
);
