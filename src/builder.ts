import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { authScopes, unauthorized, type AuthContexts, type AuthScopes } from './auth-scopes.js';
import type { Context } from './context.js';
import RootFieldChargesPlugin from './rate-limit/root-field-charges.plugin.js';

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
  // Root-field charges outermost (every call is counted, also one refused for its key), then
  // scope auth, so that no resolver or error plugin runs for a caller without the right key.
  plugins: [RootFieldChargesPlugin, ScopeAuthPlugin, ErrorsPlugin],
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
