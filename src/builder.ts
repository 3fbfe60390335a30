import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { authScopes, unauthorized, type AuthContexts, type AuthScopes } from './auth-scopes.js';
import type { Context } from './context.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  AuthContexts: AuthContexts;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    ID: { Input: string; Output: string };
  };
}>({
  // Scope auth first, so that no other plugin's wrapper runs for a caller without the right key.
  plugins: [ScopeAuthPlugin, ErrorsPlugin],
  scopeAuth: {
    authScopes,
    // Checked once when a subscription starts, as a root field is, not again for every event.
    authorizeOnSubscribe: true,
    unauthorizedError: (_parent, ctx, _info, result) => unauthorized(ctx, result.failure),
  },
  defaultFieldNullability: false,
  // Only our own DomainError subclasses become schema types; anything else is masked by yoga.
  errors: { defaultTypes: [] },
});

builder.queryType({});
builder.mutationType({});
