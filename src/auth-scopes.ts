import type { AuthFailure } from '@pothos/plugin-scope-auth';
import type { GraphQLError } from 'graphql';
import type { Context } from './context.js';
import { codedError } from './errors.js';
import type { User } from './modules/users/users.repository.js';

/** `viewer`: a user's API key came with the request; `admin`: ADMIN_API_KEY did. */
export interface AuthScopes {
  viewer: boolean;
  admin: boolean;
}

/** What a resolver behind `t.withAuth({ viewer: true })` may rely on. */
export interface AuthContexts {
  viewer: Context & { viewer: User };
}

export const authScopes = (ctx: Context): AuthScopes => ({ viewer: ctx.viewer !== null, admin: ctx.isAdmin });

/** The coded error of a failed scope: UNAUTHENTICATED without the right key, FORBIDDEN with a user's key for an admin field. */
export function unauthorized(ctx: Context, failure: AuthFailure): GraphQLError {
  if (failedScopes(failure).includes('admin')) {
    if (ctx.viewer) return codedError('FORBIDDEN', 'Only the admin key (ADMIN_API_KEY) may call upsertQuotes');
    return codedError('UNAUTHENTICATED', 'The admin key (ADMIN_API_KEY) is required: send X-API-Key: <key>');
  }
  return codedError(
    'UNAUTHENTICATED',
    ctx.isAdmin
      ? 'The admin key may only call upsertQuotes'
      : 'A valid API key is required: send X-API-Key: <key> or Authorization: Bearer <key>',
  );
}

// A field's scope map fails as a whole ($any of its scopes) with the failed scopes inside.
function failedScopes(failure: AuthFailure): string[] {
  if ('scope' in failure) return [failure.scope];
  return 'failures' in failure ? failure.failures.flatMap(failedScopes) : [];
}
